import os
import socket
import subprocess
import sys

import pytest


def test_outside_connection_is_blocked_in_this_process():
    with pytest.raises(OSError, match="network access blocked"):
        socket.create_connection(("192.0.2.1", 80), timeout=0.5)
    with pytest.raises(OSError, match="network access blocked"):
        socket.getaddrinfo("example.org", 443)


def test_child_processes_are_guarded_too():
    code = "import socket; socket.create_connection(('192.0.2.1', 80), timeout=0.5)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=os.environ.copy())
    assert out.returncode != 0
    assert "network access blocked" in out.stderr


def test_loopback_stays_usable():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    client = socket.create_connection(server.getsockname(), timeout=1)
    client.close()
    server.close()
