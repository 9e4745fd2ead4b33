"""A throwaway RabbitMQ node (Debian's rabbitmq-server with the rabbitmq_mqtt
plugin) for the bridge's tests: its own directories, node name, ports and
epmd (started here, in the foreground, so it is stopped by PID like
everything else). MQTT 3.1.1 only in RabbitMQ 3.10. The node's processes
(the start script, beam.smp, epmd) are killed by PID when the test ends.
"""
import os
import signal
import socket
import subprocess

from bridgetest import LIFETIME, child_pids, free_port, wait_for

SERVER = "/usr/lib/rabbitmq/bin/rabbitmq-server"


def available():
    return os.access(SERVER, os.X_OK) and os.path.isdir(
        "/usr/lib/rabbitmq/lib/rabbitmq_server-%s/plugins" % version()) if version() else False


def version():
    base = "/usr/lib/rabbitmq/lib"
    try:
        names = [n for n in os.listdir(base) if n.startswith("rabbitmq_server-")]
    except OSError:
        return None
    return names[0].split("-", 1)[1] if names else None


class Rabbit:
    def __init__(self, work):
        self.work = work
        self.dir = os.path.join(work.path, "rabbit")
        os.makedirs(self.dir, exist_ok=True)
        self.port = free_port()
        self.amqp_port = free_port()
        self.dist_port = free_port()
        self.epmd_port = free_port()
        self.node = "campaigntest%d@localhost" % self.port
        self.proc = None
        self.epmd = None
        self.log = os.path.join(self.dir, "server.out")
        with open(os.path.join(self.dir, "enabled_plugins"), "w") as f:
            f.write("[rabbitmq_mqtt].\n")
        with open(os.path.join(self.dir, "rabbitmq.conf"), "w") as f:
            f.write("\n".join([
                "listeners.tcp.1 = 127.0.0.1:%d" % self.amqp_port,
                "mqtt.listeners.tcp.1 = 127.0.0.1:%d" % self.port,
                "mqtt.allow_anonymous = true",
                "mqtt.vhost = /",
                "mqtt.exchange = amq.topic",
                "log.console = false",
                "log.file.level = info",
                ""]))
        self.env = dict(os.environ, HOME=self.dir,
                        RABBITMQ_MNESIA_BASE=os.path.join(self.dir, "mnesia"),
                        RABBITMQ_LOG_BASE=os.path.join(self.dir, "log"),
                        RABBITMQ_ENABLED_PLUGINS_FILE=os.path.join(self.dir, "enabled_plugins"),
                        RABBITMQ_CONFIG_FILE=os.path.join(self.dir, "rabbitmq"),
                        RABBITMQ_NODENAME=self.node,
                        RABBITMQ_NODE_IP_ADDRESS="127.0.0.1",
                        RABBITMQ_NODE_PORT=str(self.amqp_port),
                        RABBITMQ_DIST_PORT=str(self.dist_port),
                        RABBITMQ_PID_FILE=os.path.join(self.dir, "rabbit.pid"),
                        ERL_EPMD_PORT=str(self.epmd_port),
                        ERL_EPMD_ADDRESS="127.0.0.1")
        self.env.pop("RABBITMQ_ALLOW_INPUT", None)

    def start(self, timeout=90):
        if self.epmd is None:
            self.epmd = subprocess.Popen(["timeout", "-s", "KILL", str(LIFETIME), "epmd",
                                          "-port", str(self.epmd_port)], env=self.env,
                                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        out = open(self.log, "a")
        self.proc = subprocess.Popen(["timeout", "-s", "KILL", str(LIFETIME), SERVER],
                                     env=self.env, stdin=subprocess.DEVNULL, stdout=out,
                                     stderr=subprocess.STDOUT, start_new_session=True)
        out.close()

        def up():
            if self.proc.poll() is not None:
                raise AssertionError("rabbitmq-server exited: " + self.logtext()[-2000:])
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return True
            except OSError:
                return False
        wait_for(up, timeout, "RabbitMQ's MQTT listener", interval=0.25)
        return self

    def _tree(self):
        """Every process under the start script (sh, beam.smp, erl_child_setup ...)."""
        out, todo = [], [self.proc.pid]
        while todo:
            pid = todo.pop()
            kids = child_pids(pid)
            out += kids
            todo += kids
        return out

    def stop(self, sig=signal.SIGTERM, timeout=60):
        """SIGTERM: the script stops the node cleanly; SIGKILL: every process at once."""
        if self.proc is None or self.proc.poll() is not None:
            self.proc = None
            return
        if sig == signal.SIGKILL:
            for pid in self._tree():
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            self.proc.kill()
        else:
            # timeout(1) forwards SIGTERM to the script, which stops beam and waits for it.
            self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            for pid in self._tree():
                os.kill(pid, signal.SIGKILL)
            self.proc.kill()
            self.proc.wait(10)
        self.proc = None

    def close(self):
        self.stop(signal.SIGKILL)
        if self.epmd is not None and self.epmd.poll() is None:
            for pid in child_pids(self.epmd.pid):
                os.kill(pid, signal.SIGKILL)
            self.epmd.kill()
            self.epmd.wait(10)
        self.epmd = None

    def logtext(self):
        text = ""
        for path in (self.log, os.path.join(self.dir, "log", self.node + ".log")):
            try:
                with open(path, errors="replace") as f:
                    text += f.read()
            except OSError:
                pass
        return text
