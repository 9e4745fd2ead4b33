"""Throwaway mail servers for the mail tests: a Dovecot IMAP server with its
own config and Maildir under a temporary directory, and an aiosmtpd sink
that keeps every message as a file. Both listen on 127.0.0.1 on free ports
and are stopped by PID."""

import os
import pwd
import grp
import shutil
import signal
import socket
import subprocess
import time

USER = "office"
PASSWORD = "mbx-pass-7f3e9a"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, timeout=10):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("port %d never opened" % port)


class Dovecot:
    """dovecot -F with a generated config; the mail user maps to nobody when
    we run as root (Dovecot refuses uid 0 for mail)."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "dovecot")
        self.port = free_port()
        os.makedirs(os.path.join(self.dir, "base"), exist_ok=True)
        os.makedirs(os.path.join(self.dir, "state"), exist_ok=True)
        home = os.path.join(self.dir, "home")
        os.makedirs(home, exist_ok=True)
        root = os.getuid() == 0
        if root:
            user, group = "nobody", "nogroup"
            os.chown(home, pwd.getpwnam(user).pw_uid, grp.getgrnam(group).gr_gid)
            internal, login = "dovecot", "dovenull"
        else:
            user = pwd.getpwuid(os.getuid()).pw_name
            group = grp.getgrgid(os.getgid()).gr_name
            internal = login = user
        self.home = os.path.join(home, USER)
        with open(os.path.join(self.dir, "passwd"), "w") as f:
            f.write("%s:{PLAIN}%s::::::\n" % (USER, PASSWORD))
        self.conf = os.path.join(self.dir, "dovecot.conf")
        with open(self.conf, "w") as f:
            f.write(f"""
base_dir = {self.dir}/base
state_dir = {self.dir}/state
log_path = {self.dir}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
default_internal_user = {internal}
default_login_user = {login}
first_valid_uid = 0
mail_location = maildir:~/Maildir
imap_id_log = *
passdb {{
  driver = passwd-file
  args = {self.dir}/passwd
}}
userdb {{
  driver = static
  args = uid={user} gid={group} home={home}/%u
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    port = {self.port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service anvil {{
  chroot =
}}
service stats {{
  chroot =
}}
""")
        self.proc = subprocess.Popen(["/usr/sbin/dovecot", "-F", "-c", self.conf],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_port(self.port)
        self.url = "imap://127.0.0.1:%d/INBOX" % self.port

    def maildir(self):
        return os.path.join(self.home, "Maildir")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def log(self):
        try:
            with open(os.path.join(self.dir, "dovecot.log"), errors="replace") as f:
                return f.read()
        except OSError:
            return ""


class SmtpSink:
    """python3 -m aiosmtpd with the Mailbox handler: one file per message."""

    def __init__(self, tmp):
        self.dir = os.path.join(tmp, "smtp")
        self.port = free_port()
        self.proc = subprocess.Popen(
            ["/usr/bin/python3", "-m", "aiosmtpd", "-n", "-l", "127.0.0.1:%d" % self.port,
             "-c", "aiosmtpd.handlers.Mailbox", self.dir],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        self.url = "smtp://127.0.0.1:%d" % self.port

    def messages(self):
        import mailbox
        try:
            box = mailbox.Maildir(self.dir, create=False)
            return [box.get_message(k) for k in sorted(box.keys())]
        except (OSError, mailbox.Error):
            return []

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
