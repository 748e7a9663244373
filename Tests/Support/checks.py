"""What the end-to-end scripts under Tests/ share: where the built `ehcp` is, printing and counting
checks, running commands as the postgres OS user, psql, free ports, and waiting for a server to answer."""
import glob, os, socket, subprocess, sys, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EHCP = os.environ.get("EHCP_BIN", os.path.join(ROOT, ".build/debug/ehcp"))
PG_BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda path: int(path.split("/")[-2]))[-1]
failures = []


def check(condition, message):
    print(("  ok   " if condition else "  FAIL ") + message, flush=True)
    if not condition:
        failures.append(message)


def finish(name):
    """Exits 1 when any check failed, after saying how many."""
    if failures:
        print(f"{name}: {len(failures)} failed", flush=True)
        sys.exit(1)
    print(f"{name}: all passed", flush=True)


def as_postgres(command):
    """PostgreSQL's programs refuse root: as root, run them as the postgres OS user."""
    return ["runuser", "-u", "postgres", "--"] + command if os.geteuid() == 0 else command


def psql(socket_dir, sql, database="ehcp"):
    """One statement as the superuser `ehcp` over the server's Unix socket; its rows as text."""
    command = ["psql", "-h", socket_dir, "-p", "5432", "-U", "ehcp", "-d", database, "-qtAX", "-c", sql]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"psql failed: {result.stderr.strip()}")
    return result.stdout.strip()


def stop_embedded(data_dir):
    """Stops the embedded PostgreSQL an `ehcp` command left running under `data_dir`, if it did."""
    pgdata = os.path.join(data_dir, "pgdata")
    if os.path.isfile(os.path.join(pgdata, "postmaster.pid")):
        subprocess.run(as_postgres([f"{PG_BIN}/pg_ctl", "stop", "-m", "fast", "-D", pgdata]), capture_output=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, process, log):
    """Returns once `url` answers 200; exits with the log's end if `process` stops first."""
    for _ in range(600):
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                return
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"{url} never answered: " + open(log).read()[-2000:])
            time.sleep(0.2)  # polling for the port to open, not waiting for an outcome
    raise SystemExit(f"{url} never answered")
