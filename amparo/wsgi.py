import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "amparo.settings")

application = get_wsgi_application()

# Refuse to serve with keys that do not fit the stored data (a restore under another
# BLIND_INDEX_KEY would silently break search and duplicate detection). After the app registry
# is loaded, hence here.
from casework.services.keys import keys_verify  # noqa: E402

keys_verify()
