"""One contract for every ``MailTransport``: SMTP (a real aiosmtpd server on 127.0.0.1), Amazon SES
(API v2 under moto) and the ``.eml`` development mailbox.

Each transport's output is read back the way its receiver sees it — the bytes the SMTP server got,
the raw message SES stored, the file on disk — and parsed with the stdlib email parser. Then the
SMTP-only behaviour: AUTH PLAIN/LOGIN, STARTTLS and implicit TLS with a certificate made here,
certificate verification, no credentials over plain text, and connection errors.
"""

from __future__ import annotations

import datetime as dt
import email
import ipaddress
import os
import socket
import ssl
import stat
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from app.mail import MailError, MailTransport, Message
from app.mail.files import EmlFileTransport
from app.mail.smtp import SmtpTransport

SENDER = ("Acme Support", "support@acme.test")


# -- a real SMTP server ---------------------------------------------------------------------------


@dataclass
class Received:
    sender: str
    recipients: list[str]
    data: bytes
    encrypted: bool = False
    auth: tuple[str, str] | None = None  # (mechanism, username) when the session authenticated

    @property
    def parsed(self) -> EmailMessage:
        return email.message_from_bytes(self.data, policy=default_policy)  # type: ignore[return-value]


@dataclass
class _Handler:
    received: list[Received] = field(default_factory=list)
    logins: list[tuple[str, str, str]] = field(default_factory=list)  # mechanism, user, password

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        auth = None
        if session.authenticated and isinstance(session.auth_data, LoginPassword):
            auth = (self.logins[-1][0], session.auth_data.login.decode())
        self.received.append(
            Received(
                sender=envelope.mail_from,
                recipients=list(envelope.rcpt_tos),
                data=envelope.original_content,
                encrypted=server.transport.get_extra_info("ssl_object") is not None,
                auth=auth,
            )
        )
        return "250 Message accepted"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class SmtpServer:
    """aiosmtpd on 127.0.0.1 in a thread. ``users`` turns on AUTH (PLAIN and LOGIN, also over plain
    text: ``auth_require_tls=False``); ``starttls`` offers STARTTLS; ``implicit_tls`` speaks TLS
    from the first byte (SMTPS)."""

    def __init__(
        self,
        users: dict[str, str] | None = None,
        starttls: ssl.SSLContext | None = None,
        implicit_tls: ssl.SSLContext | None = None,
    ):
        self.handler = _Handler()
        self.port = free_port()
        kwargs: dict[str, Any] = {"server_hostname": "localhost", "auth_require_tls": False}
        if users is not None:
            kwargs["authenticator"] = self._authenticator(users)
        if starttls is not None:
            kwargs["tls_context"] = starttls
        self.controller = Controller(
            self.handler, hostname="127.0.0.1", port=self.port, ssl_context=implicit_tls, **kwargs
        )

    def _authenticator(self, users: dict[str, str]) -> Callable[..., AuthResult]:
        def authenticate(server: Any, session: Any, envelope: Any, mechanism: str, data: Any) -> AuthResult:
            if not isinstance(data, LoginPassword):
                return AuthResult(success=False, handled=False)
            user, password = data.login.decode(), data.password.decode()
            self.handler.logins.append((mechanism, user, password))
            if users.get(user) != password:
                return AuthResult(success=False, handled=False)  # aiosmtpd then answers 535
            return AuthResult(success=True, auth_data=data)

        return authenticate

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()

    @property
    def received(self) -> list[Received]:
        return self.handler.received


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    server = SmtpServer().start()
    yield server
    server.stop()


# -- certificates for the TLS cases ---------------------------------------------------------------


@dataclass
class Certificate:
    cert_path: str
    key_path: str

    def server_context(self) -> ssl.SSLContext:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(self.cert_path, self.key_path)
        return context

    def client_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=self.cert_path)


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> Certificate:
    """A self-signed certificate for localhost / 127.0.0.1 (needs the ``cryptography`` package,
    which authlib and moto already depend on)."""
    crypto = pytest.importorskip("cryptography", reason="cryptography is needed to make a test certificate")
    del crypto
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory = tmp_path_factory.mktemp("tls")
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
    )
    return Certificate(str(cert_path), str(key_path))


# -- the three transports behind one interface ----------------------------------------------------


@dataclass
class Delivered:
    sender: str  # envelope sender
    recipients: list[str]  # envelope recipients
    message: EmailMessage


@dataclass
class Subject:
    """A transport under test and a way to read back what it delivered."""

    transport: MailTransport
    read_back: Callable[[], list[Delivered]]


def _smtp_subject() -> Iterator[Subject]:
    server = SmtpServer().start()
    try:
        yield Subject(
            SmtpTransport("127.0.0.1", server.port, timeout=5),
            lambda: [Delivered(r.sender, r.recipients, r.parsed) for r in server.received],
        )
    finally:
        server.stop()


def _ses_subject() -> Iterator[Subject]:
    pytest.importorskip("moto")
    import boto3
    from moto import mock_aws
    from moto.core import DEFAULT_ACCOUNT_ID
    from moto.ses.models import ses_backends

    from app.mail.ses import SesTransport

    region = "eu-west-1"
    with mock_aws():
        client = boto3.client("sesv2", region_name=region)
        client.create_email_identity(EmailIdentity=SENDER[1])

        def read_back() -> list[Delivered]:
            # sesv2 keeps its messages in the SES v1 backend (moto 5); ``destinations`` there also
            # lists the header recipients again, so compare as a set.
            backend = ses_backends[DEFAULT_ACCOUNT_ID][region]
            return [
                Delivered(
                    sent.source,
                    sorted({email.utils.parseaddr(d)[1] for d in sent.destinations}),
                    email.message_from_string(sent.raw_data, policy=default_policy),  # type: ignore[arg-type]
                )
                for sent in backend.sent_messages
            ]

        yield Subject(SesTransport(region, client=client), read_back)


def _eml_subject(tmp_path: Any) -> Iterator[Subject]:
    transport = EmlFileTransport(str(tmp_path / "pb_data"))

    def read_back() -> list[Delivered]:
        out = []
        for path in transport.messages():
            with open(path, "rb") as handle:
                parsed = email.message_from_binary_file(handle, policy=default_policy)
            to = [a.addr_spec for a in parsed["To"].addresses]
            out.append(Delivered(parsed["From"].addresses[0].addr_spec, to, parsed))  # type: ignore[arg-type]
        return out

    yield Subject(transport, read_back)


@pytest.fixture(params=["smtp", pytest.param("ses", marks=pytest.mark.aws), "eml"])
def subject(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Subject]:
    if request.param == "smtp":
        yield from _smtp_subject()
    elif request.param == "ses":
        yield from _ses_subject()
    else:
        yield from _eml_subject(tmp_path)


def message(**changes: Any) -> Message:
    values: dict[str, Any] = {
        "to": [("Alice Example", "alice@example.test")],
        "subject": "Verify your Acme email",
        "html": '<p>Hello,</p><p><a class="btn" href="https://acme.test/confirm/abc.def">Verify</a></p>',
        "sender": SENDER,
    }
    values.update(changes)
    return Message(**values)


# -- the contract -----------------------------------------------------------------------------------


def test_delivers_to_the_recipients_from_the_sender(subject: Subject) -> None:
    subject.transport.send(message(to=[("Alice", "alice@example.test"), ("", "bob@example.test")]))
    [sent] = subject.read_back()
    assert sent.sender == "support@acme.test"
    assert sorted(sent.recipients) == ["alice@example.test", "bob@example.test"]
    assert [a.addr_spec for a in sent.message["To"].addresses] == ["alice@example.test", "bob@example.test"]
    assert sent.message["To"].addresses[0].display_name == "Alice"
    assert sent.message["From"].addresses[0].display_name == "Acme Support"
    assert sent.message["From"].addresses[0].addr_spec == "support@acme.test"
    assert sent.message["Message-ID"].endswith("@acme.test>")
    assert sent.message["Date"]


def test_non_ascii_subject_and_names_are_encoded_and_read_back_exactly(subject: Subject) -> None:
    subject.transport.send(
        message(
            subject="Vérifiez votre adresse — Ünïcødé ✓",
            to=[("Zoë Ñandú, Jr.", "zoe@example.test")],
            sender=("Équipe Acme", "support@acme.test"),
        )
    )
    [sent] = subject.read_back()
    raw_headers = sent.message.as_bytes().split(
        b"\r\n\r\n" if b"\r\n\r\n" in sent.message.as_bytes() else b"\n\n"
    )[0]
    assert raw_headers.isascii(), "headers must be RFC 2047 encoded on the wire"
    assert sent.message["Subject"] == "Vérifiez votre adresse — Ünïcødé ✓"
    assert sent.message["To"].addresses[0].display_name == "Zoë Ñandú, Jr."
    assert sent.message["From"].addresses[0].display_name == "Équipe Acme"


def test_html_with_a_text_part_derived_from_it(subject: Subject) -> None:
    subject.transport.send(
        message(
            html='<p>Héllo &amp; welcome</p><script>alert(1)</script><p><a href="https://acme.test/x?a=1">Open</a></p>'
        )
    )
    [sent] = subject.read_back()
    assert sent.message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in sent.message.iter_parts()]
    assert parts == ["text/plain", "text/html"], "text first: clients show the last part they understand"
    html = sent.message.get_body(("html",)).get_content()
    text = sent.message.get_body(("plain",)).get_content()
    assert '<a href="https://acme.test/x?a=1">Open</a>' in html
    assert "Héllo & welcome" in text
    assert "Open (https://acme.test/x?a=1)" in text
    assert "<" not in text and "alert" not in text


def test_an_explicit_text_part_is_kept(subject: Subject) -> None:
    subject.transport.send(message(text="Your code is 123456.\nIt expires in 3 minutes."))
    [sent] = subject.read_back()
    # Text travels with CRLF line ends (canonical MIME text); compare lines.
    text = sent.message.get_body(("plain",)).get_content()
    assert text.splitlines() == ["Your code is 123456.", "It expires in 3 minutes."]


def test_custom_headers_are_sent(subject: Subject) -> None:
    subject.transport.send(message(headers={"Reply-To": "help@acme.test", "X-Acme-Flow": "verification"}))
    [sent] = subject.read_back()
    assert sent.message["Reply-To"] == "help@acme.test"
    assert sent.message["X-Acme-Flow"] == "verification"


@pytest.mark.parametrize(
    "changes",
    [
        {"subject": "Hello\r\nBcc: victim@evil.test"},
        {"subject": "Hello\nX-Injected: 1"},
        {"to": [("Alice\r\nBcc: victim@evil.test", "alice@example.test")]},
        {"to": [("", "alice@example.test\r\nBcc: victim@evil.test")]},
        {"to": [("", "alice@example.test>, victim@evil.test")]},
        {"to": [("", "not-an-address")]},
        {"sender": ("Support\nBcc: victim@evil.test", "support@acme.test")},
        {"sender": ("", "support@acme.test\r\nRCPT TO:<victim@evil.test>")},
        {"headers": {"X-Flow": "a\r\nBcc: victim@evil.test"}},
        {"headers": {"X-Flow\r\nBcc": "victim@evil.test"}},
        {"headers": {"Bcc": "victim@evil.test"}},
        {"to": []},
    ],
    ids=[
        "subject-crlf",
        "subject-lf",
        "to-name",
        "to-address",
        "to-address-list",
        "to-invalid",
        "sender-name",
        "sender-address",
        "header-value",
        "header-name",
        "reserved-header",
        "no-recipient",
    ],
)
def test_header_injection_and_bad_addresses_are_refused(subject: Subject, changes: dict[str, Any]) -> None:
    with pytest.raises(MailError):
        subject.transport.send(message(**changes))
    assert subject.read_back() == [], "nothing may leave when a message is refused"


# -- SMTP only --------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["PLAIN", "LOGIN", ""])
def test_smtp_auth_methods(method: str) -> None:
    server = SmtpServer(users={"mailer": "s3cret pass"}).start()
    try:
        transport = SmtpTransport.from_settings(
            {"host": "127.0.0.1", "port": server.port, "username": "mailer", "password": "s3cret pass",
             "authMethod": method},
            timeout=5,
        )  # fmt: skip
        transport.send(message())
        [sent] = server.received
        assert sent.auth == (method or "PLAIN", "mailer"), "an empty method means PLAIN, as in PocketBase"
        assert server.handler.logins == [(method or "PLAIN", "mailer", "s3cret pass")]
    finally:
        server.stop()


def test_smtp_wrong_password_is_a_mail_error_and_nothing_is_sent() -> None:
    server = SmtpServer(users={"mailer": "right"}).start()
    try:
        transport = SmtpTransport("127.0.0.1", server.port, username="mailer", password="wrong", timeout=5)
        with pytest.raises(MailError, match="authentication failed"):
            transport.send(message())
        assert server.received == []
    finally:
        server.stop()


def test_smtp_without_credentials_sends_no_auth(smtp_server: SmtpServer) -> None:
    SmtpTransport("127.0.0.1", smtp_server.port, timeout=5).send(message())
    [sent] = smtp_server.received
    assert sent.auth is None and not sent.encrypted
    assert smtp_server.handler.logins == []


def test_smtp_upgrades_with_starttls_when_offered(certificate: Certificate) -> None:
    server = SmtpServer(users={"mailer": "pw"}, starttls=certificate.server_context()).start()
    try:
        transport = SmtpTransport(
            "127.0.0.1", server.port, username="mailer", password="pw", timeout=5,
            ssl_context=certificate.client_context(),
        )  # fmt: skip
        transport.send(message())
        [sent] = server.received
        assert sent.encrypted, "the message must travel over the upgraded connection"
        assert sent.auth == ("PLAIN", "mailer")
    finally:
        server.stop()


def test_smtp_starttls_verifies_the_server_certificate(certificate: Certificate) -> None:
    server = SmtpServer(starttls=certificate.server_context()).start()
    try:
        # The system trust store does not know the self-signed certificate: refuse, send nothing.
        with pytest.raises(MailError, match=r"CERTIFICATE_VERIFY_FAILED|certificate verify failed"):
            SmtpTransport("127.0.0.1", server.port, timeout=5).send(message())
        assert server.received == []
    finally:
        server.stop()


def test_smtp_implicit_tls(certificate: Certificate) -> None:
    server = SmtpServer(users={"mailer": "pw"}, implicit_tls=certificate.server_context()).start()
    try:
        transport = SmtpTransport.from_settings(
            {"host": "127.0.0.1", "port": server.port, "tls": True, "username": "mailer", "password": "pw",
             "authMethod": "LOGIN", "localName": "mail.acme.test"},
            timeout=5,
            ssl_context=certificate.client_context(),
        )  # fmt: skip
        transport.send(message())
        [sent] = server.received
        assert sent.encrypted and sent.auth == ("LOGIN", "mailer")
    finally:
        server.stop()


def test_smtp_tls_against_a_plain_server_fails_cleanly(smtp_server: SmtpServer) -> None:
    with pytest.raises(MailError):
        SmtpTransport("127.0.0.1", smtp_server.port, tls=True, timeout=5).send(message())
    assert smtp_server.received == []


def test_smtp_never_sends_credentials_in_plain_text_to_a_remote_host(
    smtp_server: SmtpServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 127.0.0.1 is the only server here; pretend it is remote (as Go's net/smtp, which PocketBase
    # uses, only loopback may get credentials without TLS).
    monkeypatch.setattr("app.mail.smtp._is_loopback", lambda host: False)
    transport = SmtpTransport("127.0.0.1", smtp_server.port, username="mailer", password="pw", timeout=5)
    with pytest.raises(MailError, match="unencrypted"):
        transport.send(message())
    assert smtp_server.received == [] and smtp_server.handler.logins == []


def test_smtp_uses_the_local_name_in_ehlo() -> None:
    seen: list[str] = []

    class Recorder(_Handler):
        async def handle_EHLO(
            self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
        ) -> list[str]:
            seen.append(hostname)
            session.host_name = hostname
            return responses

    server = SmtpServer()
    server.handler = Recorder()
    server.controller.handler = server.handler
    server.start()
    try:
        SmtpTransport("127.0.0.1", server.port, local_name="mail.acme.test", timeout=5).send(message())
        SmtpTransport("127.0.0.1", server.port, timeout=5).send(message())
        assert seen == ["mail.acme.test", "localhost"]
    finally:
        server.stop()


def test_smtp_unreachable_server_is_a_mail_error() -> None:
    with pytest.raises(MailError, match="failed"):
        SmtpTransport("127.0.0.1", free_port(), timeout=2).send(message())


def test_smtp_refuses_a_local_name_with_line_breaks(smtp_server: SmtpServer) -> None:
    with pytest.raises(MailError):
        SmtpTransport("127.0.0.1", smtp_server.port, local_name="x\r\nMAIL FROM:<a@b.c>").send(message())
    assert smtp_server.received == []


def test_smtp_repr_never_shows_the_password() -> None:
    transport = SmtpTransport.from_settings(
        {"host": "smtp.acme.test", "username": "u", "password": "hunter2"}
    )
    assert "hunter2" not in repr(transport)


# -- SES only ------------------------------------------------------------------------------------


@pytest.mark.aws
def test_ses_unverified_sender_is_a_mail_error() -> None:
    pytest.importorskip("moto")
    import boto3
    from moto import mock_aws

    from app.mail.ses import SesTransport

    with mock_aws():
        client = boto3.client("sesv2", region_name="eu-west-1")
        with pytest.raises(MailError, match="SES refused"):
            SesTransport("eu-west-1", client=client).send(message())


@pytest.mark.aws
def test_ses_client_is_built_lazily_for_its_region() -> None:
    pytest.importorskip("moto")
    from moto import mock_aws

    from app.mail.ses import SesTransport

    with mock_aws():
        transport = SesTransport("ap-southeast-2")
        assert transport._client is None
        assert transport.client.meta.region_name == "ap-southeast-2"


@pytest.mark.aws
def test_ses_gives_up_on_a_stalled_endpoint_after_bounded_attempts(monkeypatch: pytest.MonkeyPatch) -> None:
    """An SES endpoint that accepts connections and never answers: botocore's defaults would wait
    60 s per read and retry on top (minutes per message). The transport's client times out and
    stops after ``MAX_ATTEMPTS`` connections, then reports a ``MailError``."""
    import time

    from app.mail import ses

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    accepted: list[socket.socket] = []

    def accept() -> None:
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            accepted.append(conn)  # held open, never answered

    threading.Thread(target=accept, daemon=True).start()
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL_SESV2": f"http://127.0.0.1:{listener.getsockname()[1]}",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(ses, "READ_TIMEOUT", 0.5)  # the real bound is 10 s; same mechanism
    transport = ses.SesTransport("eu-west-1")
    assert transport.client.meta.config.connect_timeout == ses.CONNECT_TIMEOUT
    started = time.monotonic()
    try:
        with pytest.raises(MailError, match="SES request failed"):
            transport.send(message())
        elapsed = time.monotonic() - started
    finally:
        listener.close()
        for conn in accepted:
            conn.close()
    assert len(accepted) == ses.MAX_ATTEMPTS
    assert elapsed < ses.MAX_ATTEMPTS * 0.5 + 5


def test_the_documented_one_liner_reads_a_written_message(tmp_path: Any) -> None:
    """docs/mail.md tells developers how to read a dev mail as text: run that very command."""
    import re
    import shlex
    import subprocess
    import sys
    from pathlib import Path

    doc = (Path(__file__).parents[2] / "docs" / "mail.md").read_text()
    line = next(x for x in doc.splitlines() if x.startswith("python -c ") and "mails/<file>.eml" in x)
    path = EmlFileTransport(str(tmp_path / "pb_data")).write(
        message(html="<p>Your code is <b>493017</b>.</p>", text="")
    )
    argv = shlex.split(line.replace("pb_data/mails/<file>.eml", shlex.quote(path)))
    result = subprocess.run([sys.executable, *argv[1:]], capture_output=True, text=True, timeout=30)
    assert result.returncode == 0, result.stderr
    assert re.search(r"Your code is \**493017", result.stdout)


# -- .eml only -------------------------------------------------------------------------------------


def test_eml_files_sort_by_time_never_collide_and_are_private(tmp_path: Any) -> None:
    transport = EmlFileTransport(str(tmp_path / "pb_data"))
    assert transport.messages() == [], "the mailbox directory is created on demand"
    paths: list[str] = []
    lock = threading.Lock()

    def send(n: int) -> None:
        path = transport.write(message(subject=f"message {n}"))
        with lock:
            paths.append(path)

    for n in range(5):  # sequential: order of sending == order of names
        send(n)
    threads = [threading.Thread(target=send, args=(n,)) for n in range(5, 25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    listed = transport.messages()
    assert len(listed) == 25 and len(set(listed)) == 25
    assert listed[:5] == paths[:5]
    directory = os.path.dirname(listed[0])
    assert directory == str(tmp_path / "pb_data" / "mails")
    assert not [n for n in os.listdir(directory) if not n.endswith(".eml")], "no partial files left"
    assert stat.S_IMODE(os.stat(listed[0]).st_mode) == 0o600, "mails carry live tokens: owner only"
    assert stat.S_IMODE(os.stat(directory).st_mode) == 0o700


# -- the Mailer picks the transport per message ----------------------------------------------------


class _AppSettings:
    def __init__(self, smtp: dict[str, Any] | None = None):
        self.current = {
            "meta": {"senderName": "Acme Support", "senderAddress": "support@acme.test"},
            "smtp": {"enabled": False, "host": "", "port": 587, **(smtp or {})},
        }

    def get(self) -> dict[str, Any]:
        return self.current


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[tuple[Message, str]] = []

    def send(self, message: Message) -> None:
        self.sent.append((message, threading.current_thread().name))


def test_mailer_chooses_smtp_then_ses_then_files(tmp_path: Any, smtp_server: SmtpServer) -> None:
    from app.mail.mailer import Mailer
    from app.mail.ses import SesTransport
    from app.settings import Settings

    app_settings = _AppSettings()
    mailer = Mailer(Settings(data_dir=str(tmp_path / "pb_data")), app_settings)
    files = mailer.transport_for(app_settings.get())
    assert isinstance(files, EmlFileTransport) and files.directory == str(tmp_path / "pb_data" / "mails")
    assert mailer.transport_for(app_settings.get()) is files, "kept, not rebuilt per message"

    with_ses = Mailer(Settings(data_dir=str(tmp_path), ses_region="eu-west-1"), app_settings)
    ses = with_ses.transport_for(app_settings.get())
    assert isinstance(ses, SesTransport) and ses.region == "eu-west-1"
    assert with_ses.transport_for(app_settings.get()) is ses

    # SMTP enabled in the app settings wins over both, and applies from the next message on.
    app_settings.current["smtp"] = {"enabled": True, "host": "127.0.0.1", "port": smtp_server.port}
    smtp = with_ses.transport_for(app_settings.get())
    assert isinstance(smtp, SmtpTransport) and smtp.port == smtp_server.port
    with_ses.send(message(sender=("", "")))
    [sent] = smtp_server.received
    assert sent.sender == "support@acme.test", "the sender comes from the settings' meta"
    assert sent.parsed["From"].addresses[0].display_name == "Acme Support"


def test_mailer_keeps_a_given_sender_and_an_explicit_transport_wins(tmp_path: Any) -> None:
    import asyncio

    from app.mail.mailer import Mailer
    from app.settings import Settings

    recorder = _Recorder()
    app_settings = _AppSettings({"enabled": True, "host": "127.0.0.1"})
    mailer = Mailer(Settings(data_dir=str(tmp_path), ses_region="eu-west-1"), app_settings, recorder)
    mailer.send(message(sender=("Other", "other@acme.test")))
    asyncio.run(mailer.send_async(message(sender=("", ""))))
    (first, first_thread), (second, second_thread) = recorder.sent
    assert first.sender == ("Other", "other@acme.test")
    assert second.sender == ("Acme Support", "support@acme.test")
    assert first_thread == threading.current_thread().name
    assert second_thread != threading.current_thread().name, "send_async keeps the event loop free"
