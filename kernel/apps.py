from django.apps import AppConfig


class KernelConfig(AppConfig):
    name = "kernel"
    verbose_name = "Shared kernel"

    def ready(self) -> None:
        # Registers the deploy check that production says where the malware scanner is.
        from kernel import malware  # noqa: F401
