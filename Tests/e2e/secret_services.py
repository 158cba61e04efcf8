"""Secret Services other than gnome-keyring, each real and on its own private session bus, under
a private X server (Xvfb) whose window list shows whether any dialog opened.

- `Display`: an Xvfb server; `windows()` lists the named windows (xwininfo -root -tree).
- `KeePassXC`: keepassxc 2.7 with its Secret Service integration (FdoSecrets) on, a database
  made with keepassxc-cli whose root group is exposed, opened unlocked with --pw-stdin; per-item
  confirmation ("Confirm when passwords are retrieved by clients") on or off.
- gnome-keyring states beyond conftest's: no `default` alias.

Every peer is required: a missing one fails the test with the command that installs it.
"""
import base64
import os
import re
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from conftest import end_process, require

# What a client of the Secret Service sees of a running KeePassXC: its main window is there from
# the start; a dialog ("Access Request", "Delete entry") would be a new window.



class Display:
    """A private X server (Xvfb), chosen by the server itself (-displayfd)."""

    def __init__(self):
        xvfb = require("Xvfb", "apt-get install xvfb")
        require("xwininfo", "apt-get install x11-utils")
        read, write = os.pipe()
        self.process = subprocess.Popen([xvfb, "-displayfd", str(write), "-nolisten", "tcp", "-screen", "0", "1024x768x24"],
                                        pass_fds=(write,), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(write)
        number = b""
        deadline = time.monotonic() + 20
        while not number.endswith(b"\n") and time.monotonic() < deadline:
            chunk = os.read(read, 16)
            if not chunk:
                break
            number += chunk
        os.close(read)
        if not number.strip():
            self.close()
            pytest.fail("Xvfb did not start")
        self.name = f":{number.decode().strip()}"

    def env(self) -> dict:
        return {"DISPLAY": self.name}

    def windows(self) -> list:
        """The names of the windows on the screen (every level), as xwininfo shows them. KeePassXC's
        main window is named after its database and its state ("[Locked]", "*" while a change is
        being saved): it counts as one window whatever its title says; a dialog is another."""
        listing = subprocess.run(["xwininfo", "-root", "-tree"], capture_output=True, text=True, timeout=10,
                                 env={**os.environ, **self.env()})
        assert listing.returncode == 0, listing.stderr
        names = re.findall(r'^\s+0x[0-9a-f]+ "([^"]*)"', listing.stdout, re.M)
        return sorted("KeePassXC database window" if ".kdbx" in name else name for name in names)

    def close(self):
        end_process(self.process)


class KeePassXC:
    """keepassxc serving the Secret Service on `bus`, on `display`, with one open database."""

    PASSWORD = "database-password"

    def __init__(self, directory: Path, bus, display: Display, confirm_access: bool, program: str = "keepassxc"):
        """`program`: the name it runs under (a link to keepassxc), which is what its process
        name (/proc/PID/comm) shows: another name makes it a Secret Service the helper does not know."""
        self.keepassxc = require("keepassxc", "apt-get install keepassxc")
        if program != "keepassxc":
            link = directory / program
            link.symlink_to(self.keepassxc)
            self.keepassxc = str(link)
        self.cli = require("keepassxc-cli", "apt-get install keepassxc")
        self.directory = directory
        self.bus = bus
        self.display = display
        self.home = directory / "keepassxc-home"
        (self.home / ".config/keepassxc").mkdir(parents=True)
        self.database = directory / "secrets.kdbx"
        self._make_database()
        # FdoSecrets/ConfirmDeleteItem stays as installed (on): deletions always go through a prompt.
        (self.home / ".config/keepassxc/keepassxc.ini").write_text(
            "[General]\nConfigVersion=2\nSingleInstance=false\nRememberLastDatabases=false\nUpdateCheckMessageShown=true\n"
            "[GUI]\nCheckForUpdates=false\nShowTrayIcon=false\nMinimizeOnStartup=false\n"
            f"[FdoSecrets]\nEnabled=true\nShowNotification=false\nConfirmAccessItem={'true' if confirm_access else 'false'}\n")
        self.process = None
        self.start()

    def env(self) -> dict:
        return {"HOME": str(self.home), "XDG_CONFIG_HOME": str(self.home / ".config"), "XDG_DATA_HOME": str(self.home / ".local/share"),
                "XDG_CACHE_HOME": str(self.home / ".cache"), "XDG_RUNTIME_DIR": str(self.home), "QT_QPA_PLATFORM": "xcb",
                "PATH": os.environ["PATH"], "LANG": "C.UTF-8", **self.bus.env(), **self.display.env()}

    def _make_database(self):
        """A database whose root group is exposed to the Secret Service, as its Database Settings
        would do (the setting lives in the database's custom data, which only an XML import sets)."""
        made = self.directory / "made.kdbx"
        twice = f"{self.PASSWORD}\n{self.PASSWORD}\n"
        run = lambda *arguments, stdin="": subprocess.run([self.cli, *arguments], input=stdin, capture_output=True, text=True,
                                                          timeout=60, env=self.env())
        created = run("db-create", "--set-password", "--decryption-time", "100", str(made), stdin=twice)
        assert created.returncode == 0, created.stderr
        exported = run("export", "--format", "xml", str(made), stdin=self.PASSWORD + "\n")
        assert exported.returncode == 0, exported.stderr
        xml = exported.stdout
        root = uuid.UUID(bytes=base64.b64decode(re.search(r"<Group>\s*<UUID>([^<]+)</UUID>", xml).group(1)))
        exposed = f"<CustomData><Item><Key>FDO_SECRETS_EXPOSED_GROUP</Key><Value>{{{root}}}</Value></Item></CustomData>"
        xml = xml.replace("</Meta>", exposed + "</Meta>", 1)
        source = self.directory / "exposed.xml"
        source.write_text(xml)
        imported = run("import", "--set-password", str(source), str(self.database), stdin=twice)
        assert imported.returncode == 0, imported.stderr
        source.unlink()

    def start(self):
        self.process = subprocess.Popen([self.keepassxc, "--pw-stdin", str(self.database)], stdin=subprocess.PIPE,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=self.env(),
                                        start_new_session=True)
        self.process.stdin.write((self.PASSWORD + "\n").encode())
        self.process.stdin.close()
        deadline = time.monotonic() + 30
        while True:
            if self.bus.secrets_running() and "/collection/" in self.read_alias("default") and not self.locked():
                time.sleep(0.5)  # the window's title changes from "[Locked]" once the database is open
                return
            if time.monotonic() > deadline or self.process.poll() is not None:
                pytest.fail("keepassxc did not open its database on the Secret Service")
            time.sleep(0.1)

    def locked(self) -> bool:
        collection = re.search(r"'(/[^']+)'", self.read_alias("default")).group(1)
        return "false" not in self.bus.call("--dest", "org.freedesktop.secrets", "--object-path", collection, "--method",
                                            "org.freedesktop.DBus.Properties.Get", "org.freedesktop.Secret.Collection", "Locked")

    def read_alias(self, alias: str) -> str:
        try:
            return self.bus.call("--dest", "org.freedesktop.secrets", "--object-path", "/org/freedesktop/secrets",
                                 "--method", "org.freedesktop.Secret.Service.ReadAlias", alias)
        except RuntimeError:
            return ""

    def close(self):
        end_process(self.process)


def search(bus, **attributes) -> tuple:
    """SearchItems over the bus: (unlocked paths, locked paths), from the attributes alone."""
    query = "{" + ", ".join(f"'{name}': '{value}'" for name, value in attributes.items()) + "}"
    answer = bus.call("--dest", "org.freedesktop.secrets", "--object-path", "/org/freedesktop/secrets",
                      "--method", "org.freedesktop.Secret.Service.SearchItems", query)
    unlocked, locked = re.match(r"\((?:@ao )?\[(.*?)\], (?:@ao )?\[(.*?)\]\)", answer.strip()).groups()
    return re.findall(r"'([^']+)'", unlocked), re.findall(r"'([^']+)'", locked)


def remove_default_alias(bus, home: Path):
    """Restarts gnome-keyring with its `default` alias naming no keyring (its file names one that
    does not exist), so the login collection is there, unlocked, but not the default. (SetAlias
    with "/" does not unset it: gnome-keyring then falls back to the login keyring.)"""
    [daemon] = [p for p in bus.processes if "gnome-keyring-daemon" in " ".join(map(str, p.args)) and p.poll() is None]
    bus.stop_keyring(daemon)
    (home / ".local/share/keyrings/default").write_text("gone")
    bus.start_keyring(home)
    assert bus.call("--dest", "org.freedesktop.secrets", "--object-path", "/org/freedesktop/secrets",
                    "--method", "org.freedesktop.Secret.Service.ReadAlias", "default").strip() == "(objectpath '/',)"


class KWallet:
    """kwalletd5 (KDE Frameworks 5) serving the Secret Service on `bus` (kwalletrc: apiEnabled).

    The wallet is made and opened without any dialog the way pam_kwallet5 does at login: the
    daemon is started with `--pam-login PIPE SOCKET` and PAM_KWALLET5_LOGIN set, reads a 56-byte
    PBKDF2-SHA512 hash of the password from the pipe (creating the wallet `kdewallet` with it the
    first time) and the session's environment from the socket. Its Secret Service exposes the
    wallet as the collection `kdewallet`, reported locked until a client unlocks it; unlocking
    an open wallet answers with no prompt, which `unlock` checks. The Diffie-Hellman session
    libsecret asks for needs the QCA OpenSSL plugin (libqca-qt5-2-plugins).
    """

    COLLECTION = "/org/freedesktop/secrets/collection/kdewallet"

    def __init__(self, directory: Path, bus, display: Display):
        self.daemon = require("kwalletd5", "apt-get install libkf5wallet-bin")
        self.directory = directory
        self.bus = bus
        self.display = display
        self.home = directory / "kwallet-home"
        (self.home / ".config").mkdir(parents=True)
        self.home.chmod(0o700)
        (self.home / ".config/kwalletrc").write_text(
            "[Wallet]\nEnabled=true\nFirst Use=false\nUse One Wallet=true\nClose When Idle=false\n"
            "[org.freedesktop.secrets]\napiEnabled=true\n")
        self.process = None
        self.start()  # creates the wallet; its Secret Service shows it from the next start on
        self.stop()
        self.start()
        self.unlock()

    def env(self) -> dict:
        return {"HOME": str(self.home), "XDG_CONFIG_HOME": str(self.home / ".config"),
                "XDG_DATA_HOME": str(self.home / ".local/share"), "XDG_RUNTIME_DIR": str(self.home),
                "QT_QPA_PLATFORM": "xcb", "PATH": os.environ["PATH"], "LANG": "C.UTF-8", **self.bus.env(), **self.display.env()}

    def start(self):
        import hashlib
        import socket
        socket_path = self.directory / "kwallet5.socket"
        socket_path.unlink(missing_ok=True)
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(socket_path))
        listener.listen(1)
        read, write = os.pipe()
        self.process = subprocess.Popen([self.daemon, "--pam-login", str(read), str(listener.fileno())],
                                        pass_fds=(read, listener.fileno()), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        env={**self.env(), "PAM_KWALLET5_LOGIN": str(socket_path)}, start_new_session=True)
        os.close(read)
        os.write(write, hashlib.pbkdf2_hmac("sha512", b"wallet-password", b"s" * 56, 1000, 56))
        os.close(write)
        session = socket.socket(socket.AF_UNIX)
        session.connect(str(socket_path))
        session.sendall("".join(f"{name}={value}\n" for name, value in self.env().items()).encode())
        session.close()
        listener.close()
        deadline = time.monotonic() + 30
        while not self.bus.secrets_running():
            if time.monotonic() > deadline or self.process.poll() is not None:
                pytest.fail("kwalletd5 did not claim org.freedesktop.secrets")
            time.sleep(0.1)

    def secret_service(self, method: str, *arguments) -> str:
        return self.bus.call("--dest", "org.freedesktop.secrets", "--object-path", "/org/freedesktop/secrets",
                             "--method", f"org.freedesktop.Secret.Service.{method}", *arguments)

    def locked(self) -> bool:
        return "true" in self.bus.call("--dest", "org.freedesktop.secrets", "--object-path", self.COLLECTION, "--method",
                                       "org.freedesktop.DBus.Properties.Get", "org.freedesktop.Secret.Collection", "Locked")

    def unlock(self):
        """Unlocks the open wallet's collection; fails if that would take a prompt."""
        deadline = time.monotonic() + 20
        while "/collection/kdewallet" not in self.secret_service("ReadAlias", "default"):
            if time.monotonic() > deadline:
                pytest.fail("kwalletd5 does not show its wallet as the default collection")
            time.sleep(0.1)
        # As a desktop session's first wallet client would: kwalletd5 answers with a prompt, which
        # completes without a dialog, the wallet being open already.
        windows = self.display.windows()
        answer = self.secret_service("Unlock", f"[objectpath '{self.COLLECTION}']")
        prompt = re.search(r"objectpath '(/org/freedesktop/secrets/prompt/[^']+)'", answer)
        if prompt:
            self.bus.call("--dest", "org.freedesktop.secrets", "--object-path", prompt.group(1), "--method",
                          "org.freedesktop.Secret.Prompt.Prompt", "")
        while self.locked():
            if time.monotonic() > deadline:
                pytest.fail("kwalletd5 did not unlock its open wallet")
            time.sleep(0.1)
        assert self.display.windows() == windows

    def lock(self):
        self.secret_service("Lock", f"[objectpath '{self.COLLECTION}']")
        assert self.locked()

    def stop(self):
        end_process(self.process)
        deadline = time.monotonic() + 10
        while self.bus.secrets_running() and time.monotonic() < deadline:
            time.sleep(0.05)

    close = stop
