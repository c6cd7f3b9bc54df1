from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **fields: Any) -> User:
        if not email:
            raise ValueError("A staff account needs an e-mail address.")
        user = self.model(email=self.normalize_email(email).lower(), **fields)
        user.set_password(password)  # None gives an unusable password
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **fields: Any) -> User:
        fields.setdefault("is_staff", True)
        fields.setdefault("is_superuser", True)
        return self.create_user(email, password, **fields)


class User(AbstractBaseUser, PermissionsMixin):
    """A staff member. Signs in by e-mail; the role is a group (see ``accounts.roles``)."""

    email = models.EmailField(_("e-mail address"), unique=True)
    full_name = models.CharField(_("full name"), max_length=200)
    is_active = models.BooleanField(_("active"), default=True)
    # Django's admin reads ``is_staff``; the admin role keeps it in step (see services).
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    invited_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    invited_at = models.DateTimeField(null=True, blank=True)
    deactivated_at = models.DateTimeField(null=True, blank=True)
    deactivated_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    # When an administrator last reset the authenticator (``accounts.services.staff_reset_mfa``).
    # While set and no authenticator is enrolled, enrolment needs the e-mailed link in the same
    # session (``accounts.middleware.RequireMFAMiddleware``); the link's token is bound to this value.
    mfa_reset_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name", "email"]
        verbose_name = _("staff member")
        verbose_name_plural = _("staff members")

    def __str__(self) -> str:
        return self.full_name or self.email

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def has_accepted_invitation(self) -> bool:
        return self.has_usable_password()


class StaffSession(models.Model):
    """A signed-in session of a staff member, so that it can be seen and ended from outside.

    ``session_key`` follows the session when its key changes (re-authentication, password
    change: ``accounts.middleware.StaffSessionMiddleware``). Of the browser only a coarse
    description is kept (``browser``, ``platform``: "Chrome", "Android"), never the User-Agent.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    started_at = models.DateTimeField(default=timezone.now)
    # Updated at most once a minute (``accounts.services.staff_session_seen``).
    last_seen_at = models.DateTimeField(default=timezone.now)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    browser = models.CharField(max_length=40, blank=True)
    platform = models.CharField(max_length=40, blank=True)

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"session of user {self.user_id} since {self.started_at:%Y-%m-%d %H:%M}"

    @property
    def device(self) -> str:
        """The browser and its system, e.g. "Chrome on Android", as far as the browser told."""
        if self.browser and self.platform:
            return gettext("%(browser)s on %(platform)s") % {"browser": self.browser, "platform": self.platform}
        if self.browser or self.platform:
            return self.browser or gettext("A browser on %(platform)s") % {"platform": self.platform}
        return gettext("Unknown browser")


class AccessEvent(models.Model):
    """Who read, changed, exported or downloaded what, when and from where. Append-only.

    The database refuses UPDATE and DELETE on this table (see migration 0002).
    ``object_ref`` holds a public reference (a case number, a user's e-mail for staff
    records), never a detainee's personal data.
    """

    class Action(models.TextChoices):
        SIGN_IN = "sign_in", _("signed in")
        SIGN_OUT = "sign_out", _("signed out")
        VIEW = "view", _("viewed")
        CHANGE = "change", _("changed")
        EXPORT = "export", _("exported")
        DOWNLOAD = "download", _("downloaded")

    at = models.DateTimeField(default=timezone.now, db_index=True)
    # Indexed with ``at`` below (one person's log, newest first, is a range of that index).
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False)
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=50, blank=True)
    object_ref = models.CharField(max_length=200, blank=True)
    detail = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_ref"]),
            # The access log filtered by person, in its order (``-at, -id``, read backwards), and
            # that person's rows for anything else (a foreign-key check, a count): a prefix of it.
            models.Index(fields=["user", "at", "id"], name="accounts_event_user_at"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.user_id} {self.action} {self.object_type} {self.object_ref}"
