#!/usr/bin/env python3
"""A scheduler killed with SIGKILL between claiming an email and sending it, then restarted: each
breach still reaches each recipient exactly once.

Runs the real `ehcp` binary on an embedded database it creates and removes, and real SMTP servers
(Tests/Support/smtp_sink.py): first one that accepts connections and never answers, so the scheduler
is caught mid-send and killed; then a working one. The lease the killed scheduler held is moved into
the past by SQL (as 60 seconds passing would), rather than waited for.
"""
import json, os, shutil, signal, subprocess, sys, tempfile, datetime

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Support"))
from checks import EHCP, PG_BIN, ROOT, as_postgres, check, finish, psql as psql_at, stop_embedded  # noqa: E402

SINK = os.path.join(ROOT, "Tests/Support/smtp_sink.py")


def psql(data_dir, sql):
    return psql_at(os.path.join(data_dir, "run"), sql)


def ehcp(data_dir, *args):
    result = subprocess.run([EHCP, *args, "--data-dir", data_dir], capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"ehcp {' '.join(args)} failed: {result.stdout}{result.stderr}")
    return result.stdout


def sink(directory, security):
    process = subprocess.Popen([sys.executable, SINK, "--dir", directory, "--security", security], stdout=subprocess.PIPE, text=True)
    line = process.stdout.readline()  # blocks until it listens
    if not line.startswith("READY "):
        raise SystemExit("the SMTP sink did not start: " + line)
    return process, int(line.split()[1])


def settings(data_dir, port):
    path = os.path.join(data_dir, f"settings-{port}.json")
    with open(path, "w") as f:
        json.dump({"email": {"transport": "smtp", "from": "EHCP alerts <ehcp@example.com>",
                             "smtp": {"host": "localhost", "port": port, "security": "none"}}}, f)
    return path


def main():
    data_dir = tempfile.mkdtemp(prefix="ehcp-crash-")
    processes = []
    try:
        print("==> Email: a scheduler killed between claim and send, then restarted", flush=True)
        ehcp(data_dir, "demo", "--cases", "300")
        # Kept running between the programs (each reuses it), so that SQL can look in while they come and go.
        subprocess.run(as_postgres([f"{PG_BIN}/pg_ctl", "start", "-w", "-l", os.path.join(data_dir, "postgres.log"),
                                    "-D", os.path.join(data_dir, "pgdata"),
                                    "-o", f"-c listen_addresses='' -c unix_socket_directories='{os.path.join(data_dir, 'run')}' -p 5432"]),
                       check=True, capture_output=True)
        caseworker, team = psql(data_dir, """SELECT caseworker, team FROM case_summary WHERE caseworker IS NOT NULL
                                              GROUP BY 1, 2 ORDER BY count(*) DESC LIMIT 1""").split("|")
        ehcp(data_dir, "users", "add", caseworker, "--role", "caseworker", "--team", team, "--email", "caseworker@example.com")
        ehcp(data_dir, "users", "add", "the-manager", "--role", "manager", "--team", team, "--email", "manager@example.com")
        day = (datetime.date.today() + datetime.timedelta(days=14)).isoformat()

        holder, hold_port = sink(os.path.join(data_dir, "held"), "hold")
        processes.append(holder)
        scheduler = subprocess.Popen([EHCP, "scheduler", "--data-dir", data_dir, "--settings", settings(data_dir, hold_port), "--once", day],
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        processes.append(scheduler)
        check(holder.stdout.readline().strip() == "HELD", "the scheduler swept, claimed emails and connected to the relay")
        scheduler.send_signal(signal.SIGKILL)
        scheduler.wait()
        queued = int(psql(data_dir, "SELECT count(*) FROM outbox WHERE channel = 'email'"))
        alerts = int(psql(data_dir, """SELECT count(*) FROM alerts a JOIN users u ON u.name = a.recipient
                                       WHERE u.email IS NOT NULL AND (a.kind = 'breach' AND u.email_on_breach)"""))
        leased = int(psql(data_dir, "SELECT count(*) FROM outbox WHERE channel = 'email' AND leased_until > now() AND delivered_at IS NULL"))
        immediate = int(psql(data_dir, "SELECT count(*) FROM outbox WHERE channel = 'email' AND alert_id IS NOT NULL"))
        digests = int(psql(data_dir, "SELECT count(*) FROM outbox WHERE channel = 'email' AND digest_day IS NOT NULL"))
        check(immediate > 0 and immediate == alerts, f"one email was queued per breach alert of a person with an address ({immediate})")
        check(digests == 2 and queued == immediate + digests, "and one daily digest for each of the two people")
        check(leased > 0, f"the killed scheduler held leases on {leased} of them")
        check(int(psql(data_dir, "SELECT count(*) FROM outbox WHERE channel = 'email' AND delivered_at IS NOT NULL")) == 0, "none was recorded as sent")

        receiver_dir = os.path.join(data_dir, "received")
        receiver, port = sink(receiver_dir, "none")
        processes.append(receiver)
        # Restarted while the leases still run: nothing is sent twice, nothing is taken from under the lease.
        ehcp(data_dir, "scheduler", "--settings", settings(data_dir, port), "--once", day)
        sent_during_lease = len([n for n in os.listdir(receiver_dir) if n.endswith(".json")])
        check(sent_during_lease == queued - leased, f"a restart sends only what was not leased ({sent_during_lease})")
        psql(data_dir, "UPDATE outbox SET leased_until = now() - interval '1 second' WHERE leased_until > now()")  # 60 seconds on
        out = ehcp(data_dir, "scheduler", "--settings", settings(data_dir, port), "--once", day)
        check("0 breaches" in out, "the second sweep records no breach again")
        messages = []
        for name in sorted(n for n in os.listdir(receiver_dir) if n.endswith(".json")):
            with open(os.path.join(receiver_dir, name)) as f:
                messages.append(json.load(f))
        deliveries = [next(line.split(":", 1)[1].strip() for line in m["data"].split("\r\n") if line.startswith("X-EHCP-Delivery:")) for m in messages]
        check(len(messages) == queued, f"every queued email arrived: {len(messages)} of {queued}")
        check(len(set(deliveries)) == len(deliveries), "each exactly once")
        check(int(psql(data_dir, "SELECT count(*) FROM outbox WHERE channel = 'email' AND delivered_at IS NULL")) == 0, "and each is recorded as sent")
        check(all(m["rcpt_tos"][0] in ("caseworker@example.com", "manager@example.com") for m in messages), "to the people whose alerts they are")
        ehcp(data_dir, "scheduler", "--settings", settings(data_dir, port), "--once", day)
        check(len([n for n in os.listdir(receiver_dir) if n.endswith(".json")]) == queued, "a third run sends nothing more")
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        stop_embedded(data_dir)
        shutil.rmtree(data_dir, ignore_errors=True)
    finish("Email crash test")


if __name__ == "__main__":
    main()
