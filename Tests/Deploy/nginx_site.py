#!/usr/bin/env python3
"""deploy/nginx/ehcp.conf, run: Debian's nginx in front of two `ehcp serve` processes on one database.

Checks each rule of the site as it is shipped (only the server name, the certificate, the ports and the
upstream addresses are replaced): TLS termination, plain http redirected, a body over 1 MiB refused by
nginx, a burst from one client limited with 429, the health check exempt from the limit, requests
shared between the two instances, and the site still answering after one instance is killed with SIGKILL.

Then several instances as a council would run them: a write through one instance is seen by the other's
next decision on that case; a scripted caseworker load through nginx (opening late cases, logging events,
reading and searching, each write with an Idempotency-Key and retried on a 502 as a client should) while
one instance is killed with SIGKILL; afterwards every acknowledged write is stored exactly once, and each
breach that both instances' schedulers raced to record is recorded once. Starts and stops everything it uses.
"""
import datetime, http.client, json, os, re, shutil, signal, ssl, subprocess, sys, tempfile, threading, time, urllib.request, uuid

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Support"))
from checks import EHCP, ROOT, check, finish, free_port, psql as psql_at, stop_embedded, wait_for  # noqa: E402


def psql(data_dir, sql):
    return psql_at(os.path.join(data_dir, "run"), sql)


def call(connection_factory, method, path, token, body=None, key=None):
    """One request; (status, parsed JSON or None). Connection failures are status 0."""
    headers = {"Authorization": f"Bearer {token}"}
    if body is not None:
        headers["Content-Type"] = "application/json"
    if key:
        headers["Idempotency-Key"] = key
    try:
        connection = connection_factory()
        connection.request(method, path, body=json.dumps(body) if body is not None else None, headers=headers)
        response = connection.getresponse()
        text = response.read()
        connection.close()
        try:
            return response.status, json.loads(text) if text else None
        except ValueError:
            return response.status, None
    except (OSError, http.client.HTTPException):
        return 0, None


def opening(day, forename):
    return {"event": {"type": "RequestReceived", "occurredOn": day, "data": {"requestSource": "parent"}},
            "child": {"forename": forename, "surname": "Loadtest", "bornOn": "2016-02-01"}}


def several_instances(data_dir, ports, https, kill_first):
    """A write through one instance seen by the other's next decision; a caseworker load through nginx
    with a kill -9 of one instance; every acknowledged write once; each breach once."""
    team = psql(data_dir, "SELECT team FROM case_summary WHERE team IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")
    added = subprocess.run([EHCP, "users", "add", "load-manager", "--role", "manager", "--team", team, "--data-dir", data_dir],
                           capture_output=True, text=True, timeout=120)
    if added.returncode != 0:
        raise SystemExit("ehcp users add failed: " + added.stderr)
    token = added.stdout.strip().splitlines()[-1]
    direct = [lambda port=port: http.client.HTTPConnection("127.0.0.1", port, timeout=30) for port in ports]
    today = datetime.date.today()

    # The second instance holds the case's state after writing to it; the first then decides to assess;
    # the second's next decision on the case must see that.
    status, opened = call(direct[0], "POST", "/v1/cases", token, opening((today - datetime.timedelta(days=7)).isoformat(), "Cross"))
    case = opened["caseId"]
    day = today.isoformat()
    assign = {"type": "CaseworkerAssigned", "occurredOn": day, "data": {"caseworker": "load-manager", "team": team}}
    second_status, second = call(direct[1], "POST", f"/v1/cases/{case}/events", token, assign)
    decided_status, _ = call(direct[0], "POST", f"/v1/cases/{case}/events", token, {"type": "DecidedToAssess", "occurredOn": day, "data": {}})
    refused_status, refused = call(direct[1], "POST", f"/v1/cases/{case}/events", token, {"type": "DecidedNotToAssess", "occurredOn": day, "data": {}})
    check(status == 201 and second_status == 201 and decided_status == 201 and refused_status == 409
          and "already recorded" in (refused or {}).get("detail", ""),
          f"a decision to assess through one instance is seen by the other's next decision: deciding not to assess is refused "
          f"({refused_status}: {(refused or {}).get('detail', '')[:120]})")
    again_status, again = call(direct[1], "POST", f"/v1/cases/{case}/events", token, assign)
    check(again_status == 201 and again.get("version") == 4, f"and its next write follows the other's (version {again and again.get('version')})")

    # A caseworker load through nginx: 4 people, each opening 8 cases whose decision to assess fell due
    # weeks ago (so both schedulers race to record each breach), assigning them three times, and reading
    # and searching. Instance 0 is killed with SIGKILL half-way.
    context = ssl.create_default_context(cafile=https[1])
    through_nginx = lambda: http.client.HTTPSConnection("localhost", https[0], context=context, timeout=30)
    acknowledged, lock, killed, failures_seen = [], threading.Lock(), threading.Event(), {"retried": 0, "gave_up": 0}
    planned = 4 * 8 * 4

    def send(method, path, body=None, key=None):
        for attempt in range(60):
            status, reply = call(through_nginx, method, path, token, body, key)
            if status in (0, 429, 502, 503, 504):
                with lock:
                    failures_seen["retried"] += status != 429
                time.sleep(0.05 * min(attempt + 1, 10))  # a client's backoff before retrying, not synchronisation
                continue
            return status, reply
        with lock:
            failures_seen["gave_up"] += 1
        return status, reply

    def acknowledge(kind, status, reply):
        if status == 201 and reply:
            with lock:
                acknowledged.append((kind, reply["caseId"], reply["version"]))
                if len(acknowledged) >= planned // 2 and not killed.is_set():
                    killed.set()
                    kill_first()

    def caseworker(n):
        late = (today - datetime.timedelta(days=70)).isoformat()
        for c in range(8):
            status, reply = send("POST", "/v1/cases", opening(late, f"Load{n}x{c}"), key=str(uuid.uuid4()))
            acknowledge("RequestReceived", status, reply)
            if status != 201:
                continue
            case_id = reply["caseId"]
            for who in ["load-caseworker-a", "load-caseworker-b", "load-caseworker-a"]:
                event = {"type": "CaseworkerAssigned", "occurredOn": day, "data": {"caseworker": who, "team": team}}
                status, reply = send("POST", f"/v1/cases/{case_id}/events", event, key=str(uuid.uuid4()))
                acknowledge(event["type"], status, reply)
            send("GET", f"/v1/cases/{case_id}")
            send("GET", "/v1/cases?q=Loadtest&limit=5")

    workers = [threading.Thread(target=caseworker, args=(n,)) for n in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    check(killed.is_set(), "instance 0 was killed with SIGKILL half-way through the load")
    check(len(acknowledged) == planned and failures_seen["gave_up"] == 0,
          f"every write of the load was acknowledged ({len(acknowledged)} of {planned}; {failures_seen['retried']} cut off and retried with their keys)")
    stored = {}
    for line in psql(data_dir, """SELECT e.case_id, e.version, e.type FROM events e JOIN case_summary s USING (case_id) JOIN children c USING (child_id)
                                  WHERE c.surname = 'Loadtest' AND e.actor <> 'system'""").splitlines():
        case_id, version, kind = line.split("|")
        stored[(case_id, int(version))] = kind
    missing = [a for a in acknowledged if stored.get((a[1], a[2])) != a[0]]
    check(not missing and len(stored) == len(acknowledged) + 4,
          f"every acknowledged write is stored, once ({len(stored) - 4} people's events stored beside the cross-instance case's 4; {len(missing)} missing)")
    # The killed instance's scheduler is gone; the other's records the rest (woken by each late case's NOTIFY).
    late = """FROM events e JOIN case_summary s USING (case_id) JOIN children c USING (child_id)
              WHERE c.surname = 'Loadtest' AND e.type = 'DeadlineBreached' AND e.data->>'rule' = 'R-DECIDE-6W'"""
    deadline = time.monotonic() + 90
    while int(psql(data_dir, "SELECT count(*) " + late)) < 32 and time.monotonic() < deadline:
        time.sleep(0.5)  # polling for the surviving scheduler's sweep, with a deadline
    breaches = int(psql(data_dir, "SELECT count(*) " + late))
    duplicates = int(psql(data_dir, """SELECT count(*) FROM (SELECT 1 FROM events WHERE type = 'DeadlineBreached'
                                       GROUP BY case_id, data->>'rule', data->>'dueOn', coalesce(data->>'key', '') HAVING count(*) > 1) d"""))
    check(breaches == 32 and duplicates == 0,
          f"each late case's missed decision is recorded once, though both instances' schedulers raced ({breaches} of 32; {duplicates} duplicated anywhere)")
    # Alerts go to the caseworker the case had when the breach was recorded and to each manager of the team.
    managers = int(psql(data_dir, f"SELECT count(*) FROM users WHERE role = 'manager' AND team = '{team}' AND disabled_at IS NULL"))
    assigned = int(psql(data_dir, "SELECT count(*) " + late + """ AND EXISTS (SELECT 1 FROM events a WHERE a.case_id = e.case_id
                                                                     AND a.type = 'CaseworkerAssigned' AND a.version < e.version)"""))
    alerts = int(psql(data_dir, """SELECT count(*) FROM alerts a JOIN case_summary s USING (case_id) JOIN children c USING (child_id)
                                   WHERE c.surname = 'Loadtest' AND a.kind = 'breach'"""))
    check(alerts == assigned * (1 + managers),
          f"and each has its alerts once: {alerts} = {assigned} breaches on assigned cases x (caseworker + {managers} managers)")


def alert_rules_match(port):
    """Every metric deploy/prometheus/ehcp-alerts.yml alerts on is one a running instance exports (the
    replica's lag only where a standby is configured: ReplicaReadTests checks that one)."""
    import yaml
    rules = yaml.safe_load(open(os.path.join(ROOT, "deploy/prometheus/ehcp-alerts.yml")))
    names = {name for group in rules["groups"] for rule in group["rules"] for name in re.findall(r"\behcp_[a-z_]+", rule["expr"])}
    exported = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
    missing = sorted(name for name in names - {"ehcp_replica_lag_seconds"} if not re.search(rf"^{name}[{{ ]", exported, re.M))
    check(len(names) >= 6 and not missing, f"the alert rules' {len(names)} metrics are exported by a running instance (missing: {missing or 'none'})")


def main():
    work = tempfile.mkdtemp(prefix="ehcp-nginx-")
    os.chmod(work, 0o755)  # so that the postgres OS user keeps the embedded database here, where psql finds it
    processes = []
    try:
        print("==> deploy/nginx/ehcp.conf in front of two instances of ehcp serve", flush=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost", "-keyout", f"{work}/key.pem", "-out", f"{work}/cert.pem"],
                       check=True, capture_output=True)
        data_dir = os.path.join(work, "data")
        demo = subprocess.run([EHCP, "demo", "--cases", "300", "--data-dir", data_dir], capture_output=True, text=True, timeout=600)
        if demo.returncode != 0:
            raise SystemExit("ehcp demo failed: " + demo.stderr[-2000:])
        ports = [free_port(), free_port()]
        for index, port in enumerate(ports):
            log = os.path.join(work, f"serve-{index}.log")
            process = subprocess.Popen([EHCP, "serve", "--data-dir", data_dir, "--port", str(port)], stdout=open(log, "w"), stderr=subprocess.STDOUT)
            processes.append(process)
            wait_for(f"http://127.0.0.1:{port}/readyz", process, log)

        http_port, https_port = free_port(), free_port()
        site = open(os.path.join(ROOT, "deploy/nginx/ehcp.conf")).read()
        site = site.replace("ehcp.council.example;", "localhost;")
        site = site.replace("/etc/ssl/certs/ehcp.council.example.pem", f"{work}/cert.pem").replace("/etc/ssl/private/ehcp.council.example.key", f"{work}/key.pem")
        site = site.replace("listen 80;", f"listen 127.0.0.1:{http_port};").replace("listen 443 ssl;", f"listen 127.0.0.1:{https_port} ssl;")
        site = site.replace("server 127.0.0.1:8080 ", f"server 127.0.0.1:{ports[0]} ").replace("server 127.0.0.1:8081 ", f"server 127.0.0.1:{ports[1]} ")
        check(site.count(f"127.0.0.1:{ports[0]}") == 1 and site.count(f"127.0.0.1:{ports[1]}") == 1, "the shipped site's upstreams were found and pointed at the two instances")
        with open(f"{work}/site.conf", "w") as f:
            f.write(site)
        os.makedirs(f"{work}/temp", exist_ok=True)
        with open(f"{work}/nginx.conf", "w") as f:
            f.write(f"""user root; worker_processes 1; pid {work}/nginx.pid; error_log {work}/error.log;
events {{ worker_connections 256; }}
http {{ access_log off; client_body_temp_path {work}/temp/body; proxy_temp_path {work}/temp/proxy;
       fastcgi_temp_path {work}/temp/fastcgi; uwsgi_temp_path {work}/temp/uwsgi; scgi_temp_path {work}/temp/scgi;
       include {work}/site.conf; }}
""")
        test = subprocess.run(["nginx", "-t", "-p", work, "-c", f"{work}/nginx.conf"], capture_output=True, text=True)
        check(test.returncode == 0, "nginx -t accepts the site: " + test.stderr.strip().splitlines()[-1] if test.stderr else "nginx -t")
        nginx = subprocess.Popen(["nginx", "-p", work, "-c", f"{work}/nginx.conf", "-g", "daemon off;"], stderr=subprocess.STDOUT, stdout=open(f"{work}/nginx.out", "w"))
        processes.append(nginx)
        context = ssl.create_default_context(cafile=f"{work}/cert.pem")

        def get(path, method="GET", body=None):
            for _ in range(100):
                try:
                    connection = http.client.HTTPSConnection("localhost", https_port, context=context, timeout=10)
                    connection.request(method, path, body=body, headers={"Content-Type": "application/json"} if body else {})
                    response = connection.getresponse()
                    response.read()
                    connection.close()
                    return response
                except ConnectionRefusedError:
                    if nginx.poll() is not None:
                        raise SystemExit("nginx stopped: " + open(f"{work}/error.log").read()[-2000:])
                    time.sleep(0.1)  # polling for nginx's port to open
            raise SystemExit("nginx never listened")

        health = get("/healthz")
        check(health.status == 200, "TLS is terminated and /healthz reaches the service through nginx")
        check(health.getheader("Strict-Transport-Security", "").startswith("max-age="), "with Strict-Transport-Security")
        plain = http.client.HTTPConnection("127.0.0.1", http_port, timeout=10)
        plain.request("GET", "/cases")
        redirect = plain.getresponse()
        check(redirect.status == 301 and redirect.getheader("Location", "").startswith("https://"), "plain http is redirected to https")
        big = get("/v1/cases", method="POST", body=b"x" * (2 * 1024 * 1024))
        check(big.status == 413, f"a 2 MiB body is refused by nginx with 413 ({big.status})")

        statuses = [get("/readyz").status for _ in range(120)]
        check(statuses[:20].count(200) == 20 and 429 in statuses, f"a burst from one client is limited with 429 ({statuses.count(429)} of 120)")
        check(all(get("/healthz").status == 200 for _ in range(30)), "the health check is never rate-limited")

        def served(port):
            text = urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5).read().decode()
            return sum(int(m) for m in re.findall(r'route="/healthz",status="200"\} (\d+)', text))
        counts = [served(port) for port in ports]
        check(all(count > 0 for count in counts), f"requests are shared between the two instances ({counts[0]} and {counts[1]} health checks)")

        def kill_first():
            processes[0].send_signal(signal.SIGKILL)
            processes[0].wait()
        several_instances(data_dir, ports, (https_port, f"{work}/cert.pem"), kill_first)
        alert_rules_match(ports[1])
        after = [get("/healthz").status for _ in range(20)]
        check(after.count(200) == 20, f"with one instance killed, the site still answers every request ({after.count(200)} of 20)")
    finally:
        for process in reversed(processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
                try:
                    process.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    process.kill()
        stop_embedded(os.path.join(work, "data"))
        shutil.rmtree(work, ignore_errors=True)
    finish("nginx site test")


if __name__ == "__main__":
    main()
