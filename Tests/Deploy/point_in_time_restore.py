#!/usr/bin/env python3
"""docs/operations.md, "Backups, WAL archiving and a point-in-time restore", run as written.

A primary with WAL archiving (archive_mode, an archive_command that never overwrites), a demo caseload,
a base backup with pg_basebackup; then caseworkers open cases through `ehcp serve`, the moment is noted,
and a mistake follows: more cases, and a DBA's UPDATE that overwrites every child's surname. The base
backup is restored to a new data directory with restore_command and recovery_target_time set to that
moment, and promoted. Checks that everything committed up to the moment is there, nothing after it, and
that `ehcp serve` on the restored database answers the case pages with the same tokens. Prints the
figures (backup size and time, WAL segments archived, restore time). Starts and stops everything it uses.
"""
import http.client, json, os, shutil, signal, subprocess, sys, tempfile, time, urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Support"))
from checks import EHCP, PG_BIN, as_postgres, check, finish, free_port, psql  # noqa: E402


def run(command, **kwargs):
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise SystemExit(f"{' '.join(command[:6])} … failed: {result.stderr[-2000:]}")
    return result.stdout.strip()


def start_server(data, socket_dir, log, extra=()):
    command = [f"{PG_BIN}/pg_ctl", "start", "-D", data, "-w", "-t", "120", "-l", log,
               "-o", f"-c listen_addresses='' -c unix_socket_directories='{socket_dir}' " + " ".join(extra)]
    result = subprocess.run(as_postgres(command), capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit("the server did not start: " + (open(log).read()[-2000:] if os.path.exists(log) else result.stderr))


def stop_server(data):
    if os.path.isfile(os.path.join(data, "postmaster.pid")):
        subprocess.run(as_postgres([f"{PG_BIN}/pg_ctl", "stop", "-D", data, "-m", "fast", "-w"]), capture_output=True)


def serve(socket_dir, log):
    port = free_port()
    environment = dict(os.environ, DATABASE_URL=f"host={socket_dir} port=5432 user=ehcp_service dbname=ehcp",
                       DATABASE_OWNER_URL=f"host={socket_dir} port=5432 user=ehcp dbname=ehcp")
    process = subprocess.Popen([EHCP, "serve", "--port", str(port), "--no-scheduler"], env=environment,
                               stdout=open(log, "w"), stderr=subprocess.STDOUT)
    for _ in range(600):
        try:
            if urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2).status == 200:
                return process, port
        except OSError:
            if process.poll() is not None:
                raise SystemExit("ehcp serve stopped: " + open(log).read()[-2000:])
            time.sleep(0.2)  # polling for the port to open
    raise SystemExit("ehcp serve never answered")


def call(port, method, path, token, body=None):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
    response = connection.getresponse()
    text = response.read()
    connection.close()
    return response.status, (json.loads(text) if text else None)


def open_case(port, token, forename, surname):
    status, reply = call(port, "POST", "/v1/cases", token, {
        "event": {"type": "RequestReceived", "occurredOn": time.strftime("%Y-%m-%d"), "data": {"requestSource": "parent"}},
        "child": {"forename": forename, "surname": surname, "bornOn": "2016-02-01"}})
    if status != 201:
        raise SystemExit(f"opening a case failed: {status} {reply}")
    return reply["caseId"]


def main():
    work = tempfile.mkdtemp(prefix="ehcp-pitr-")
    os.chmod(work, 0o755)
    primary, archive, base, restored = (os.path.join(work, name) for name in ("primary", "archive", "base", "restored"))
    sockets = {name: os.path.join(work, f"run-{name}") for name in ("primary", "restored")}
    for directory in [archive, *sockets.values()]:
        os.makedirs(directory)
    if os.geteuid() == 0:
        run(["chown", "-R", "postgres:", work])
    servers, processes = [], []
    try:
        print("==> WAL archiving, a base backup and a point-in-time restore, as docs/operations.md gives them", flush=True)
        run(as_postgres([f"{PG_BIN}/initdb", "-D", primary, "-U", "ehcp", "--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8"]))
        # The runbook's settings: archive each WAL segment once it is complete, never overwriting one.
        with open(os.path.join(primary, "postgresql.auto.conf"), "a") as conf:
            conf.write(f"wal_level = replica\narchive_mode = on\narchive_command = 'test ! -f {archive}/%f && cp %p {archive}/%f'\n")
        start_server(primary, sockets["primary"], os.path.join(work, "primary.log"))
        servers.append(primary)
        psql(sockets["primary"], "CREATE DATABASE ehcp", database="postgres")
        psql(sockets["primary"], "CREATE ROLE ehcp_app NOLOGIN")
        psql(sockets["primary"], "CREATE ROLE ehcp_service LOGIN IN ROLE ehcp_app")
        owner_env = dict(os.environ, DATABASE_URL=f"host={sockets['primary']} port=5432 user=ehcp_service dbname=ehcp",
                         DATABASE_OWNER_URL=f"host={sockets['primary']} port=5432 user=ehcp dbname=ehcp")
        run([EHCP, "demo", "--cases", "500"], env=owner_env, timeout=600)
        token = run([EHCP, "users", "add", "pitr-manager", "--role", "manager", "--team", "North"], env=owner_env).splitlines()[-1]

        started = time.monotonic()
        run(as_postgres([f"{PG_BIN}/pg_basebackup", "-h", sockets["primary"], "-p", "5432", "-U", "ehcp", "-D", base,
                         "--checkpoint=fast", "-X", "stream"]))
        backup_seconds = time.monotonic() - started
        backup_mb = int(run(["du", "-sm", base]).split()[0])
        check(os.path.isfile(os.path.join(base, "backup_label")), f"pg_basebackup took a base backup ({backup_mb} MB in {backup_seconds:.1f} s)")

        process, port = serve(sockets["primary"], os.path.join(work, "serve.log"))
        processes.append(process)
        before = [open_case(port, token, f"Kept{n}", "Beforemistake") for n in range(20)]
        events_at_moment = int(psql(sockets["primary"], "SELECT count(*) FROM events"))
        moment = psql(sockets["primary"], "SELECT now()")
        # now() is when that statement's transaction began, after the last kept commit; everything later
        # commits after it, so recovery_target_time (inclusive, microseconds) keeps exactly what came before.
        after = [open_case(port, token, f"Lost{n}", "Aftermistake") for n in range(5)]
        psql(sockets["primary"], "UPDATE children SET surname = 'OVERWRITTEN'")  # the mistake a restore undoes
        segment = psql(sockets["primary"], "SELECT pg_walfile_name(pg_switch_wal())")
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and psql(sockets["primary"], "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver") < segment:
            time.sleep(0.2)  # polling for the archiver, with a deadline
        archived = len([name for name in os.listdir(archive) if len(name) == 24])
        check(psql(sockets["primary"], "SELECT last_archived_wal FROM pg_stat_archiver") >= segment,
              f"every WAL segment up to the mistake is archived ({archived} segments)")
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
        processes.remove(process)

        # The restore: the base backup into a new directory, replaying archived WAL up to the moment, then promoted.
        started = time.monotonic()
        run(["cp", "-a", base, restored])
        with open(os.path.join(restored, "postgresql.auto.conf"), "a") as conf:
            conf.write(f"restore_command = 'cp {archive}/%f %p'\nrecovery_target_time = '{moment}'\nrecovery_target_action = 'promote'\n"
                       "archive_mode = off\n")
        open(os.path.join(restored, "recovery.signal"), "w").close()
        if os.geteuid() == 0:
            run(["chown", "-R", "postgres:", restored])
        start_server(restored, sockets["restored"], os.path.join(work, "restored.log"))
        servers.append(restored)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and psql(sockets["restored"], "SELECT pg_is_in_recovery()") == "t":
            time.sleep(0.1)  # polling for the end of recovery, with a deadline
        restore_seconds = time.monotonic() - started
        check(psql(sockets["restored"], "SELECT pg_is_in_recovery()") == "f",
              f"the restored copy replayed the archive to the moment and was promoted in {restore_seconds:.1f} s")
        kept = int(psql(sockets["restored"], "SELECT count(*) FROM children WHERE surname = 'Beforemistake'"))
        lost = int(psql(sockets["restored"], "SELECT count(*) FROM children WHERE surname IN ('Aftermistake', 'OVERWRITTEN')"))
        events = int(psql(sockets["restored"], "SELECT count(*) FROM events"))
        check(kept == 20, f"every case opened before the moment is there ({kept} of 20)")
        check(lost == 0, f"nothing after it: not the 5 cases opened later, nor the overwritten surnames ({lost} rows)")
        check(events == events_at_moment, f"the event log is exactly as it was at the moment ({events} events, {events_at_moment} then)")

        process, port = serve(sockets["restored"], os.path.join(work, "serve-restored.log"))
        processes.append(process)
        status, case = call(port, "GET", f"/v1/cases/{before[-1]}", token)
        gone, _ = call(port, "GET", f"/v1/cases/{after[0]}", token)
        check(status == 200 and gone == 404, f"ehcp serve on the restored copy shows the kept case ({status}) and not the later one ({gone}), with the same token")
        print(f"figures: base backup {backup_mb} MB in {backup_seconds:.1f} s; {archived} WAL segments archived; "
              f"restore (copy, replay, promote) {restore_seconds:.1f} s", flush=True)
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.wait()
        for data in servers:
            stop_server(data)
        shutil.rmtree(work, ignore_errors=True)
    finish("point-in-time restore test")


if __name__ == "__main__":
    main()
