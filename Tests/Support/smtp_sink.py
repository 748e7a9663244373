#!/usr/bin/env python3
"""A real SMTP server for the email tests (aiosmtpd), on loopback.

Each accepted message is written to DIR/NNNN.json with its envelope, the raw message, whether TLS
was in use (and its version), and who authenticated. A recipient whose address contains "bounce"
is refused with 550 (a bounced address). With --security starttls the server offers STARTTLS and
refuses mail before it; with tls it speaks TLS from the first byte. With hold it accepts each
connection and never answers, printing "HELD" (a relay that hangs: a scheduler is then mid-send).
With inject it plays a man in the middle of STARTTLS: its 220 comes with a forged "250" behind it,
in plain text, which a client must refuse rather than read once TLS starts. The certificate is made for
"localhost" at start (DIR/cert.pem, which the client trusts as its CA file).

Prints "READY <port>" once listening. Stops on SIGTERM (unblocked here: a test process may have it blocked) or SIGKILL.
"""
import argparse, asyncio, json, os, signal, socket, ssl, subprocess, sys

from aiosmtpd.smtp import SMTP, AuthResult, LoginPassword


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dir", required=True)
    parser.add_argument("--security", choices=["starttls", "tls", "none", "hold", "inject"], default="starttls")
    parser.add_argument("--auth", help="user:password that AUTH must give (AUTH then required)")
    args = parser.parse_args()
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})
    os.makedirs(args.dir, exist_ok=True)

    context = None
    if args.security not in ("none", "hold", "inject"):
        cert, key = os.path.join(args.dir, "cert.pem"), os.path.join(args.dir, "key.pem")
        subprocess.run(
            ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
             "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1", "-keyout", key, "-out", cert],
            check=True, capture_output=True)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        context.load_cert_chain(cert, key)

    counter = {"n": 0}

    class Handler:
        async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
            if "bounce" in address:
                return "550 5.1.1 <%s>: mailbox unavailable" % address
            if "relay-denied" in address:
                return "550 5.7.1 <%s>: Relaying denied" % address
            envelope.rcpt_tos.append(address)
            return "250 OK"

        async def handle_DATA(self, server, session, envelope):
            # Implicit TLS: the listening socket's; STARTTLS: the upgraded transport's.
            ssl_object = server.transport.get_extra_info("ssl_object")
            if ssl_object is None and session.ssl is not None:
                ssl_object = session.ssl.get("ssl_object")
            counter["n"] += 1
            record = {
                "mail_from": envelope.mail_from,
                "rcpt_tos": envelope.rcpt_tos,
                "data": envelope.original_content.decode("utf-8", "replace"),
                "tls": ssl_object is not None or session.ssl is not None,
                "tls_version": ssl_object.version() if ssl_object is not None else None,
                "auth_user": session.auth_data if session.authenticated and isinstance(session.auth_data, str) else None,
            }
            path = os.path.join(args.dir, "%04d.json" % counter["n"])
            with open(path + ".part", "w") as f:
                json.dump(record, f)
            os.rename(path + ".part", path)  # whole before the 250: the client's success means the file is there
            return "250 Message accepted for delivery"

    def authenticator(server, session, envelope, mechanism, auth_data):
        user, _, password = args.auth.partition(":")
        ok = isinstance(auth_data, LoginPassword) and auth_data.login.decode() == user and auth_data.password.decode() == password
        return AuthResult(success=ok, handled=False, auth_data=auth_data.login.decode() if ok else None)

    def factory():
        parameters = dict(hostname="localhost", enable_SMTPUTF8=True)
        if args.security == "starttls":
            parameters.update(tls_context=context, require_starttls=True)
        if args.auth:
            parameters.update(authenticator=authenticator, auth_required=True, auth_require_tls=args.security == "starttls")
        return SMTP(Handler(), **parameters)

    class Hold(asyncio.Protocol):
        def connection_made(self, transport):
            print("HELD", flush=True)

    class Inject(asyncio.Protocol):
        def connection_made(self, transport):
            self.transport = transport
            transport.write(b"220 localhost ESMTP\r\n")

        def data_received(self, data):
            for line in data.decode("ascii", "replace").split("\r\n"):
                if line.upper().startswith("EHLO"):
                    self.transport.write(b"250-localhost\r\n250 STARTTLS\r\n")
                elif line.upper() == "STARTTLS":
                    self.transport.write(b"220 Ready to start TLS\r\n250 forged\r\n")

    async def serve():
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        loop = asyncio.get_running_loop()
        protocol = {"hold": Hold, "inject": Inject}.get(args.security, factory)
        server = await loop.create_server(protocol, sock=sock,
                                          ssl=context if args.security == "tls" else None)
        print("READY %d" % sock.getsockname()[1], flush=True)
        stop = loop.create_future()
        loop.add_signal_handler(signal.SIGTERM, stop.set_result, None)
        await stop
        server.close()

    asyncio.run(serve())


if __name__ == "__main__":
    main()
