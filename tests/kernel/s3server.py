"""A real S3-compatible server for the storage tests: moto in server mode, a subprocess on 127.0.0.1.

The application talks to it over HTTP with the real boto3 client, as to any object store; nothing is
mocked in the test process. ``stop()`` ends the process, which is what an outage of the store looks
like to the application (connections refused).
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from typing import Any

import boto3
from botocore.config import Config

ACCESS_KEY = "amparo-test-access-key"
SECRET_KEY = "amparo-test-secret-key"
REGION = "us-east-1"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class S3Server:
    """One ``moto_server`` process; ``client()`` is a boto3 client of it, for the tests' own look at the bucket."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 30) -> S3Server:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"moto_server exited with {self.process.returncode}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return self
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"moto_server did not listen on {self.url} within {timeout} s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def client(self) -> Any:
        return boto3.client(
            "s3",
            endpoint_url=self.url,
            region_name=REGION,
            aws_access_key_id=ACCESS_KEY,
            aws_secret_access_key=SECRET_KEY,
            config=Config(connect_timeout=2, read_timeout=10, retries={"total_max_attempts": 1}),
        )

    def new_bucket(self) -> str:
        name = f"amparo-{uuid.uuid4().hex[:12]}"
        self.client().create_bucket(Bucket=name)
        return name

    def storage_options(self, bucket: str, **overrides: Any) -> dict[str, Any]:
        """``STORAGES["default"]["OPTIONS"]`` as the settings build them for ``PRIVATE_STORAGE=s3``."""
        return {
            "bucket_name": bucket,
            "endpoint_url": self.url,
            "region_name": REGION,
            "access_key": ACCESS_KEY,
            "secret_key": SECRET_KEY,
            "location": "amparo",
            "object_parameters": {},
            "default_acl": None,
            "connect_timeout": 2,
            "read_timeout": 5,
            "max_attempts": 2,
            "conditional_writes": True,
            **overrides,
        }
