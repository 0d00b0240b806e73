"""A real IMAP server for the tests: Debian's Dovecot, started with a throwaway
configuration in the test's directory, on a socket the test bound itself (handed to
Dovecot by systemd-style socket activation: LISTEN_FDS, LISTEN_PID), and stopped after.

Skipped with the reason when Dovecot is not installed (`apt-get install dovecot-imapd`);
with HELPWIRE_REQUIRE_DOVECOT=1 (CI) that fails instead."""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ports import listening_socket, port_of

DOVECOT = Path("/usr/sbin/dovecot")
REQUIRED = os.environ.get("HELPWIRE_REQUIRE_DOVECOT") == "1"
START_TIMEOUT_S = 20.0
PASSWORD = "secret-password"


@dataclass
class Dovecot:
    host: str
    port: int
    root: Path

    def url(self, user: str, folder: str = "INBOX") -> str:
        return f"imap://{user}:{PASSWORD}@{self.host}:{self.port}/{folder}"

    def client(self, user: str) -> imaplib.IMAP4:
        """A plain imaplib client, signed in (the tests' own mail program)."""
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        client.login(user, PASSWORD)
        return client

    def append(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        """Deliver ``raw`` into the user's folder, as an MTA's local delivery would."""
        client = self.client(user)
        try:
            client.create(folder)
            typ, data = client.append(folder, "", imaplib.Time2Internaldate(time.time()), raw)
            assert typ == "OK", data
        finally:
            client.logout()

    def messages(self, user: str, folder: str = "INBOX") -> list[bytes]:
        client = self.client(user)
        try:
            typ, _ = client.select(folder)
            if typ != "OK":
                return []
            typ, data = client.search(None, "ALL")
            found: list[bytes] = []
            for number in (data[0] or b"").split():
                typ, parts = client.fetch(number.decode(), "(BODY.PEEK[])")
                for part in parts:
                    if isinstance(part, tuple):
                        found.append(part[1])
            return found
        finally:
            client.logout()


def _oauth2(root: Path, introspection_url: str | None) -> tuple[str, str]:
    """The mechanism and passdb that take OAuth2 access tokens (XOAUTH2), checked by
    posting them to ``introspection_url`` (RFC 7662), as Dovecot does in front of an
    identity provider; nothing without one."""
    if introspection_url is None:
        return "", ""
    (root / "oauth2.conf.ext").write_text(
        f"introspection_mode = post\nintrospection_url = {introspection_url}\n"
        "username_attribute = username\nactive_attribute = active\nactive_value = true\n"
    )
    passdb = f"passdb {{\n  driver = oauth2\n  args = {root}/oauth2.conf.ext\n}}\n"
    return " xoauth2", passdb


def _config(root: Path, port: int, users: list[str], introspection_url: str | None = None) -> str:
    me = pwd.getpwuid(os.getuid()).pw_name
    as_root = os.getuid() == 0
    owner = "dovecot" if as_root else me
    owner_uid = pwd.getpwnam(owner).pw_uid
    # Not root: every service runs as this user (Dovecot's own users need root to switch to).
    users_block = (
        ""
        if as_root
        else (
            f"default_internal_user = {me}\ndefault_login_user = {me}\n"
            f"default_internal_group = {pwd.getpwuid(os.getuid()).pw_gid}\n"
        )
    )
    (root / "passwd").write_text("".join(f"{u}:{{PLAIN}}{PASSWORD}::::::\n" for u in users))
    oauth2_mechanism, oauth2_passdb = _oauth2(root, introspection_url)
    return f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
info_log_path = {root}/dovecot.log
{users_block}first_valid_uid = {owner_uid}
ssl = no
disable_plaintext_auth = no
listen = 127.0.0.1
protocols = imap
auth_mechanisms = plain login{oauth2_mechanism}
# A wrong password is answered sooner (Dovecot waits 2 s by default, against guessing).
auth_failure_delay = 0
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
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
{oauth2_passdb}userdb {{
  driver = static
  args = uid={owner} gid={owner} home={root}/home/%u
}}
mail_location = maildir:~/Maildir
"""


def _wait_ready(port: int, log: Path) -> None:
    """Until Dovecot greets a client. The socket listens from the start, so a connection
    waits in its backlog; but Dovecot says nothing of being ready, and a connection made
    while it starts may be closed unanswered, so this tries again until the deadline."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as conn:
                if conn.recv(64).startswith(b"* OK"):
                    return
        except OSError:
            pass
        time.sleep(0.05)  # polled: nothing to wait on but the server's greeting
    text = "".join(
        path.read_text(errors="replace")
        for path in (log, log.with_name("stderr.log"))
        if path.exists()
    )
    raise AssertionError(f"Dovecot did not start: {text[-3000:]}")


@pytest.fixture
def dovecot() -> Iterator[Dovecot]:
    yield from started()


def started(introspection_url: str | None = None) -> Iterator[Dovecot]:
    """Dovecot running until the generator is closed; with ``introspection_url``, it
    also takes OAuth2 access tokens, checked there."""
    if not DOVECOT.exists():
        reason = "Dovecot is not installed at /usr/sbin/dovecot (apt-get install dovecot-imapd)"
        if REQUIRED:
            pytest.fail(reason + " (HELPWIRE_REQUIRE_DOVECOT=1)")
        pytest.skip(reason)
    # Not pytest's tmp_path: its parents are private to this user, where Dovecot's own users
    # must reach the mailboxes, and its length would overrun the limit on the paths of
    # Dovecot's Unix sockets (108 bytes).
    root = Path(tempfile.mkdtemp(prefix="hw-dovecot-"))
    root.chmod(0o755)
    try:
        yield from _running(root, introspection_url)
    finally:
        shutil.rmtree(root, ignore_errors=True)


def _running(root: Path, introspection_url: str | None) -> Iterator[Dovecot]:
    for part in ("run", "state", "home"):
        (root / part).mkdir(parents=True)
    sock = listening_socket()
    port = port_of(sock)
    config = root / "dovecot.conf"
    config.write_text(_config(root, port, ["support", "owner", "gus"], introspection_url))
    if os.getuid() == 0:
        shutil.chown(root / "home", "dovecot", "dovecot")
    fd = sock.fileno()
    log_file = (root / "stderr.log").open("wb")
    # The socket goes to descriptor 3, where socket activation looks. Python's own
    # descriptors close on exec; with close_fds off, the one made here stays open. The
    # shell becomes Dovecot (exec keeps its process id, which LISTEN_PID names).

    def socket_at_3() -> None:
        os.dup2(fd, 3)

    process = subprocess.Popen(
        ["sh", "-c", f'LISTEN_PID=$$ exec {DOVECOT} -F -c "{config}"'],
        preexec_fn=socket_at_3,
        close_fds=False,
        env={**os.environ, "LISTEN_FDS": "1"},
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    sock.close()  # Dovecot holds it now
    try:
        _wait_ready(port, root / "dovecot.log")
        yield Dovecot(host="127.0.0.1", port=port, root=root)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
