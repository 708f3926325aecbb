"""A real IMAP server for the tests: Debian's Dovecot on a free loopback port, one mailbox."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.server import free_port

STARTUP_SECONDS = 15

CONFIG = """
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
mail_location = maildir:{root}/home/%u/Maildir
default_internal_user = {user}
default_login_user = {user}
mail_uid = {uid}
mail_gid = {gid}
first_valid_uid = 1
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={root}/home/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
"""


def _mail_user() -> pwd.struct_passwd:
    """Dovecot refuses uid 0 for mail: as root, mail is owned by nobody."""
    return pwd.getpwuid(os.getuid()) if os.getuid() else pwd.getpwnam("nobody")


@dataclass
class Dovecot:
    """A running Dovecot and a client for the mailbox's owner (the customer's side)."""

    root: Path
    port: int
    process: subprocess.Popen[bytes]

    def client(self, user: str, password: str) -> imaplib.IMAP4:
        """A logged-in standard-library client with INBOX selected."""
        client = imaplib.IMAP4("127.0.0.1", self.port, timeout=10)
        client.login(user, password)
        client.select("INBOX")
        return client

    def add_user(self, user: str, password: str) -> None:
        """A mailbox login (plain password, as the passwd-file stores it)."""
        with (self.root / "users").open("a") as users:
            users.write(f"{user}:{{PLAIN}}{password}\n")

    def deliver(self, user: str, password: str, raw: bytes, flags: str | None = None) -> None:
        """Put a message into the user's INBOX, as the mail provider's delivery would."""
        client = self.client(user, password)
        try:
            status, answer = client.append("INBOX", flags, None, raw)
            assert status == "OK", answer
        finally:
            client.logout()

    def flags(self, user: str, password: str) -> list[bytes]:
        """The FLAGS of every message in the INBOX, in order."""
        client = self.client(user, password)
        try:
            status, answer = client.fetch("1:*", "(FLAGS)")
            assert status == "OK", answer
            return [line for line in answer if isinstance(line, bytes)]
        finally:
            client.logout()

    def stop(self) -> None:
        """Stop the server."""
        self.process.terminate()
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def start_dovecot(root: Path) -> Dovecot:
    """Write a configuration under root and start Dovecot in the foreground (as a child)."""
    binary = shutil.which("dovecot") or ("/usr/sbin/dovecot"
                                         if Path("/usr/sbin/dovecot").exists() else None)
    if binary is None:
        pytest.fail("Dovecot is missing: run scripts/install-test-peers (dovecot-imapd)")
    user = _mail_user()
    for folder in ("run", "state", "home"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    (root / "users").touch()
    os.chown(root / "home", user.pw_uid, user.pw_gid)
    port = free_port()
    config = root / "dovecot.conf"
    config.write_text(CONFIG.format(root=root, port=port, uid=user.pw_uid, gid=user.pw_gid,
                                    user=user.pw_name))
    process = subprocess.Popen([binary, "-F", "-c", str(config)], stdout=subprocess.DEVNULL,
                               stderr=subprocess.STDOUT)
    deadline = time.monotonic() + STARTUP_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log = root / "dovecot.log"
            pytest.fail(f"dovecot exited: {log.read_text() if log.exists() else ''}")
        try:
            imaplib.IMAP4("127.0.0.1", port, timeout=1).shutdown()
            return Dovecot(root, port, process)
        except OSError:
            time.sleep(0.1)
    process.kill()
    pytest.fail("dovecot did not start")
