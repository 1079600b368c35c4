"""The README's TLS parameters against a memphis-devbroker serving mutual TLS."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from memphis import Memphis, MemphisConnectError

from conftest import BROKER_BIN, PASSWORD, USERNAME, start_broker, stop_broker


def _openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True)


def _make_pki(d: Path) -> None:
    """A CA, a server certificate for 127.0.0.1 and a client certificate."""
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=test-ca",
             "-keyout", "ca.key", "-out", "ca.pem", cwd=d)  # fmt: skip
    (d / "san.cnf").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for who in ("server", "client"):
        _openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", f"/CN={who}",
                 "-keyout", f"{who}.key", "-out", f"{who}.csr", cwd=d)  # fmt: skip
        _openssl("x509", "-req", "-in", f"{who}.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                 "-days", "2", "-extfile", "san.cnf", "-out", f"{who}.pem", cwd=d)  # fmt: skip


@pytest.fixture(scope="module")
def tls_broker(library):
    if shutil.which("openssl") is None or not BROKER_BIN.exists():
        pytest.skip("needs openssl and memphis-devbroker")
    workdir = Path(tempfile.mkdtemp(prefix="memphis-py-tls-"))
    _make_pki(workdir)
    proc, info = start_broker(
        workdir,
        "--tls-cert", str(workdir / "server.pem"),
        "--tls-key", str(workdir / "server.key"),
        "--tls-ca", str(workdir / "ca.pem"),
    )  # fmt: skip
    try:
        yield info, workdir
    finally:
        stop_broker(proc)
        shutil.rmtree(workdir, ignore_errors=True)


async def test_connect_with_mutual_tls(tls_broker, name):
    broker, pki = tls_broker
    memphis = Memphis()
    await memphis.connect(
        host=broker.host,
        username=USERNAME,
        password=PASSWORD,
        port=broker.port,
        key_file=str(pki / "client.key"),
        cert_file=str(pki / "client.pem"),
        ca_file=str(pki / "ca.pem"),
    )
    try:
        st = name("tls")
        await memphis.produce(station_name=st, producer_name="p", message=b"over tls")
        msgs = await memphis.fetch_messages(station_name=st, consumer_name="c", batch_max_time_to_wait_ms=500)
        assert [bytes(m.get_data()) for m in msgs] == [b"over tls"]
    finally:
        await memphis.close()


async def test_plain_client_is_refused_by_tls_broker(tls_broker):
    broker, _ = tls_broker
    with pytest.raises(MemphisConnectError):
        await Memphis().connect(
            host=broker.host, username=USERNAME, password=PASSWORD, port=broker.port, reconnect=False
        )


async def test_wrong_ca_is_refused(tls_broker, tmp_path):
    broker, pki = tls_broker
    _openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=other",
             "-keyout", "o.key", "-out", "o.pem", cwd=tmp_path)  # fmt: skip
    with pytest.raises(MemphisConnectError):
        await Memphis().connect(
            host=broker.host,
            username=USERNAME,
            password=PASSWORD,
            port=broker.port,
            reconnect=False,
            key_file=str(pki / "client.key"),
            cert_file=str(pki / "client.pem"),
            ca_file=str(tmp_path / "o.pem"),
        )
