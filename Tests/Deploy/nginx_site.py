#!/usr/bin/env python3
"""deploy/nginx/ehcp.conf, run: Debian's nginx in front of two `ehcp serve` processes on one database.

Checks each rule of the site as it is shipped (only the server name, the certificate, the ports and the
upstream addresses are replaced): TLS termination, plain http redirected, a body over 1 MiB refused by
nginx, a burst from one client limited with 429, the health check exempt from the limit, requests
shared between the two instances, and the site still answering after one instance is killed with SIGKILL.
Starts and stops everything it uses.
"""
import http.client, os, re, shutil, signal, socket, ssl, subprocess, sys, tempfile, time, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EHCP = os.environ.get("EHCP_BIN", os.path.join(ROOT, ".build/debug/ehcp"))
failures = []


def check(condition, message):
    print(("  ok   " if condition else "  FAIL ") + message, flush=True)
    if not condition:
        failures.append(message)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, process, log):
    for _ in range(600):
        try:
            if urllib.request.urlopen(url, timeout=2).status == 200:
                return
        except OSError:
            if process.poll() is not None:
                raise SystemExit(f"{url} never answered: " + open(log).read()[-2000:])
            time.sleep(0.2)  # polling for the port to open, not waiting for an outcome


def main():
    work = tempfile.mkdtemp(prefix="ehcp-nginx-")
    processes = []
    try:
        print("==> deploy/nginx/ehcp.conf in front of two instances of ehcp serve", flush=True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
                        "-addext", "subjectAltName=DNS:localhost", "-keyout", f"{work}/key.pem", "-out", f"{work}/cert.pem"],
                       check=True, capture_output=True)
        data_dir = os.path.join(work, "data")
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

        processes[0].send_signal(signal.SIGKILL)
        processes[0].wait()
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
        pgdata = os.path.join(work, "data", "pgdata")
        if os.path.isfile(os.path.join(pgdata, "postmaster.pid")):
            command = ["/usr/lib/postgresql/15/bin/pg_ctl", "stop", "-m", "fast", "-D", pgdata]
            subprocess.run(["runuser", "-u", "postgres", "--"] + command if os.geteuid() == 0 else command, capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"nginx site test: {len(failures)} failed", flush=True)
        sys.exit(1)
    print("nginx site test: all passed", flush=True)


if __name__ == "__main__":
    main()
