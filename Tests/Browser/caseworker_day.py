#!/usr/bin/env python3
"""A caseworker's day in a real browser (issue 20): Chromium driven by Selenium, against `ehcp serve` on
an embedded database this script creates and removes, with axe-core checking every page.

Covers: sign in; my work; finding a case; recording advice received through "check your answers" and
seeing that deadline turn to met; a refused event showing its error summary and writing nothing; the
whole record path with the keyboard alone; a case of another council giving "page not found"; a form
posted without its token refused; an expired session going back to sign-in; signing out; axe on every
page. Screenshots go to .build/screenshots/ (ignored by git).

Run by scripts/test.sh after `swift test`; EHCP_BIN names the ehcp binary (default .build/debug/ehcp).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

from axe_core_python.selenium import Axe
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
EHCP = os.environ.get("EHCP_BIN", os.path.join(ROOT, ".build/debug/ehcp"))
SHOTS = os.path.join(ROOT, ".build/screenshots")
PASSWORD = "correct horse battery staple"
OTHER_PASSWORD = "another council's password"
failures = []


def check(condition, message):
    print(("  ok   " if condition else "  FAIL ") + message, flush=True)
    if not condition:
        failures.append(message)


def ehcp(data_dir, *args, stdin=None):
    result = subprocess.run([EHCP, *args, "--data-dir", data_dir], input=stdin, capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise SystemExit(f"ehcp {' '.join(args)} failed: {result.stdout}{result.stderr}")
    return result.stdout


def ehcp_beside(data_dir, *args, stdin=None):
    """An administration command on the running embedded cluster, as its owner (DATABASE_OWNER_URL)."""
    socket_dir = os.path.join(data_dir, "run")
    env = dict(os.environ, DATABASE_OWNER_URL=f"host={socket_dir} port=5432 user=ehcp dbname=ehcp",
               DATABASE_URL=f"host={socket_dir} port=5432 user=ehcp_service dbname=ehcp")
    result = subprocess.run([EHCP, *args], input=stdin, capture_output=True, text=True, timeout=600, env=env)
    if result.returncode != 0:
        raise SystemExit(f"ehcp {' '.join(args)} failed: {result.stdout}{result.stderr}")
    return result.stdout


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def psql(data_dir, sql):
    """As the embedded cluster's superuser, over its private socket (what a DBA could do)."""
    command = ["psql", "-h", os.path.join(data_dir, "run"), "-p", "5432", "-U", "ehcp", "-d", "ehcp", "-qtAX", "-c", sql]
    if os.geteuid() == 0:
        command = ["runuser", "-u", "postgres", "--"] + command
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


class Browser:
    def __init__(self, base):
        options = webdriver.ChromeOptions()
        for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000", "--disable-gpu"]:
            options.add_argument(flag)
        self.driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
        self.base = base
        self.axe = Axe()
        self.checked = set()

    def get(self, path):
        self.driver.get(self.base + path)

    def find(self, css):
        return self.driver.find_element(By.CSS_SELECTOR, css)

    def finds(self, css):
        return self.driver.find_elements(By.CSS_SELECTOR, css)

    def h1(self):
        return self.find("h1").text

    def page(self, name):
        """Runs axe on the page and saves a full-height screenshot; each page name once."""
        if name in self.checked:
            return
        self.checked.add(name)
        results = self.axe.run(self.driver, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}})
        violations = results["violations"]
        details = "; ".join(f"{v['id']} ({len(v['nodes'])}: {v['nodes'][0]['target']})" for v in violations)
        check(not violations, f"axe finds no violations on {name}" + (f": {details}" if details else ""))
        height = self.driver.execute_script("return document.body.scrollHeight")
        self.driver.set_window_size(1280, min(max(height, 800), 4000))
        self.driver.save_screenshot(os.path.join(SHOTS, f"{name}.png"))
        self.driver.set_window_size(1280, 1000)

    def snapshot(self, name, width=1100, height=820):
        """The top of the page at a laptop's size: the README's pictures are copies of these."""
        self.driver.set_window_size(width, height)
        self.driver.save_screenshot(os.path.join(SHOTS, f"{name}.png"))
        self.driver.set_window_size(1280, 1000)

    def sign_in(self, username, password, navigate=True):
        if navigate:
            self.get("/sign-in")
        self.find("#username").send_keys(username)
        self.find("#password").send_keys(password)
        self.follow(self.find("button[type=submit].button"))

    def follow(self, element):
        """Clicks something that loads a page, and waits until the old page has gone (a condition, never a sleep)."""
        old = self.find("html")
        element.click()
        self.wait_until_gone(old)

    def press(self, key):
        """Presses a key on the focused element, when that loads a page, and waits for it as `follow` does."""
        old = self.find("html")
        self.driver.switch_to.active_element.send_keys(key)
        self.wait_until_gone(old)

    def wait_until_gone(self, old):
        def gone(_):
            try:
                old.is_enabled()
                return False
            except WebDriverException:  # stale, or "does not belong to the document": the page was replaced
                return True
        WebDriverWait(self.driver, 60).until(gone)

    def quit(self):
        self.driver.quit()


def main():
    os.makedirs(SHOTS, exist_ok=True)
    data_dir = tempfile.mkdtemp(prefix="ehcp-browser-")
    server = None
    browser = None
    try:
        print("==> Browser tests: loading a demo caseload for two councils into an embedded database", flush=True)
        ehcp(data_dir, "demo", "--cases", "1000", "--councils", "2")
        port = free_port()
        log = open(os.path.join(data_dir, "serve.log"), "w")
        settings = os.path.join(data_dir, "settings.json")
        with open(settings, "w") as f:
            json.dump({"twoFactorRoles": ["manager"]}, f)
        server = subprocess.Popen([EHCP, "serve", "--data-dir", data_dir, "--port", str(port), "--no-scheduler", "--settings", settings],
                                  stdout=log, stderr=subprocess.STDOUT)
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):
            try:
                if urllib.request.urlopen(base + "/readyz", timeout=2).status == 200:
                    break
            except (urllib.error.URLError, ConnectionError):
                if server.poll() is not None:
                    raise SystemExit("ehcp serve stopped: " + open(os.path.join(data_dir, "serve.log")).read())
                time.sleep(0.2)  # polling for the port to open, not waiting for an outcome
        # A case of council 1 being assessed, awaiting advice, with a duty due within 14 days; its caseworker gets an account.
        case_id, reference, caseworker = psql(
            data_dir,
            """SELECT s.case_id, s.reference, s.caseworker FROM case_summary s JOIN councils c USING (council_id)
               WHERE c.code = 'DEMO-1' AND s.stage = 'assessment' AND s.caseworker IS NOT NULL
                 AND EXISTS (SELECT 1 FROM deadlines d WHERE d.case_id = s.case_id AND d.rule = 'R-ADVICE-6W' AND d.status = 'open')
                 AND EXISTS (SELECT 1 FROM deadlines d WHERE d.case_id = s.case_id AND d.status = 'open' AND d.kind = 'duty'
                             AND d.due_on <= current_date + 14)
               ORDER BY s.reference LIMIT 1""").split("|")
        tokens = {}
        for council, name, password, role in [("DEMO-1", caseworker, PASSWORD, "caseworker"), ("DEMO-2", "cw-other", OTHER_PASSWORD, "caseworker"),
                                              ("DEMO-1", "mgr-one", PASSWORD, "manager")]:
            tokens[name] = ehcp_beside(data_dir, "users", "add", name, "--role", role, "--council", council).strip().splitlines()[-1]
            ehcp_beside(data_dir, "users", "passwd", name, "--council", council, stdin=password + "\n")
        browser = Browser(base)
        run(browser, data_dir, case_id, reference, caseworker, tokens)
    finally:
        if browser:
            browser.quit()
        if server:
            server.terminate()
            server.wait(timeout=60)
        shutil.rmtree(data_dir, ignore_errors=True)
    if failures:
        print(f"Browser tests: {len(failures)} failed", flush=True)
        sys.exit(1)
    print("Browser tests: all passed", flush=True)


def totp(key, at=None):
    """RFC 6238 with SHA-1 and 30-second steps, as an authenticator app computes it from its base-32 key."""
    import base64, hashlib, hmac, struct
    secret = base64.b32decode(key + "=" * (-len(key) % 8))
    counter = int((at or time.time()) // 30)
    digest = hmac.new(secret, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    return "%06d" % ((struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF) % 1000000)


def managers_morning(m, token, case_id, reference):
    print("==> A manager's morning: the dashboard against the API, a figure's cases, the breach report and its CSV", flush=True)
    m.follow(m.driver.find_element(By.LINK_TEXT, "Dashboard"))
    check(m.h1() == "Dashboard", "the dashboard opens from the menu")
    m.page("dashboard")
    m.snapshot("readme-dashboard", height=1300)
    import base64
    from selenium.webdriver.common.print_page_options import PrintOptions
    a4 = PrintOptions()
    a4.page_width, a4.page_height = 21.0, 29.7
    pdf = base64.b64decode(m.driver.print_page(a4))
    with open(os.path.join(SHOTS, "dashboard-a4.pdf"), "wb") as f:
        f.write(pdf)
    pages = pdf.count(b"/Type /Page") - pdf.count(b"/Type /Pages")
    check(1 <= pages <= 3, f"the dashboard prints on A4 in {pages} pages, with its chart as SVG")
    tiles = {t.find_element(By.CSS_SELECTOR, ".tile__source").text.split(",")[0]: t for t in m.finds(".tile")}
    check(len(tiles) == 8, f"a tile for each of the 8 measures (found {len(tiles)})")
    for measure in ["K-20W", "K-DECIDE-6W", "K-REVIEW-12M"]:
        figure = api(m.base, f"/v1/reports/timeliness?measure={measure}", token)["total"]
        expected = "No cases" if figure.get("percent") is None else (
            ("%d" % figure["percent"] if figure["percent"] == int(figure["percent"]) else "%.1f" % figure["percent"]) + "%")
        shown = tiles[measure].find_elements(By.CSS_SELECTOR, ".tile__caption a")[0].text.split(" over")[0]
        check(shown == expected, f"{measure} over 12 months is the API's figure ({shown} against {expected})")
    check(len(m.finds("svg[role=img] desc")) == 1 and len(m.finds("table caption")) >= 1,
          "the K-20W trend is drawn with a text alternative and its figures in a table")
    m.follow(tiles["K-20W"].find_elements(By.CSS_SELECTOR, ".tile__caption a")[0])
    check(m.h1().startswith("New plans issued within 20 weeks"), "a figure opens the cases behind it")
    m.page("figure-cases")
    trace = api(m.base, "/v1/reports/timeliness/cases?measure=K-20W", token)["cases"]
    check(len(m.finds("tbody tr")) == len(trace), f"the same {len(trace)} cases as the API's trace")

    m.get("/dashboard")
    m.follow(m.driver.find_element(By.PARTIAL_LINK_TEXT, "By team, caseworker or month"))
    check(m.h1() == "New plans issued within 20 weeks", "a tile opens its measure grouped by team")
    m.page("measure")
    by_team = api(m.base, "/v1/reports/timeliness?measure=K-20W&groupBy=team", token)
    shown = {r.find_element(By.CSS_SELECTOR, "th").text: r.find_elements(By.CSS_SELECTOR, "td")[1].text for r in m.finds("tbody tr")}
    expected = {row["group"]: f'{row["numerator"]} of {row["denominator"]}' for row in by_team["rows"]}
    check(all(shown.get(group) == counts for group, counts in expected.items()) and len(expected) > 0,
          f"each team's figure is the API's ({len(expected)} teams)")

    m.get("/reports/breaches")
    check(m.h1() == "Breach report", "the breach report opens")
    m.page("breaches")
    from selenium.webdriver.support.ui import Select
    Select(m.find("#rule")).select_by_value("R-FINAL-20W")
    m.follow(m.find("form.filters button"))
    rules = {r.find_elements(By.CSS_SELECTOR, "td")[1].text.split("\n")[-1] for r in m.finds("tbody tr") if len(r.find_elements(By.CSS_SELECTOR, "td")) > 3}
    check(rules <= {"R-FINAL-20W"}, f"filtering by deadline leaves only that deadline ({sorted(rules)[:3]})")
    m.follow(m.driver.find_element(By.LINK_TEXT, "Days"))
    check("sort=daysOverdue" in m.driver.current_url or "sort" not in m.driver.current_url, "a column heading sorts the report")
    m.follow(m.driver.find_element(By.LINK_TEXT, "Due"))
    check("sort=dueOn" in m.driver.current_url, "and another column sorts it by that column")
    csv_href = m.driver.find_element(By.PARTIAL_LINK_TEXT, "Download this report as CSV").get_attribute("href")
    downloaded = m.driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done);", csv_href)
    query = csv_href.split("?", 1)[1] if "?" in csv_href else ""
    from_api = api(m.base, "/v1/reports/breaches?" + query, token, accept="text/csv")
    check(downloaded == from_api and downloaded.count("\n") > 1, f"the CSV is the API's, byte for byte ({len(downloaded)} bytes)")

    print("==> Missed deadlines apart from the open ones; the DfE's measures beside England's", flush=True)
    m.get("/reports/breaches")
    report = api(m.base, "/v1/reports/breaches", token)
    missed_total = [r for r in m.finds(".totals table") if r.find_element(By.CSS_SELECTOR, "caption").text == "Missed"]
    shown = missed_total[0].find_element(By.CSS_SELECTOR, "td").text if missed_total else "0"
    check(report["missed"]["total"] > 0 and shown == str(report["missed"]["total"]),
          f"the missed section shows the API's {report['missed']['total']} missed deadlines, apart from the open list")
    closed = [(row["reference"], row["rule"]) for row in report["rows"][:20] if row["state"] == "breached"
              and api(m.base, f"/v1/cases/{row['caseId']}", token)["stage"] in ("withdrawn", "ceased", "transferredOut")]
    check(not closed, f"no overdue deadline in the open list is on a closed case ({closed[:3]})")
    m.follow(m.find("#missed-table tbody tr a"))
    check(any(tag.text == "Missed" for tag in m.finds(".tag")), "a missed deadline's case page tags it Missed")
    m.page("case-missed")
    m.get("/dashboard")
    k20w = [t for t in m.finds(".tile") if t.find_element(By.CSS_SELECTOR, ".tile__source").text.startswith("K-20W,")][0]
    check("England: 46.1% in 2025" in k20w.text, "the K-20W tile shows England's published figure")
    check(len(m.finds(".chart__svg title")) > 0 and any("England" in t.get_attribute("textContent") for t in m.finds(".chart__svg title")),
          "the K-20W chart draws England's line")
    m.get("/dashboard?to=1990-06-30")
    check(m.h1() == "Dashboard" and "England:" not in m.find("main").text, "a dashboard for a year before England's figures shows none, and works")
    m.follow(m.driver.find_element(By.LINK_TEXT, "DfE measures"))
    check(m.h1().startswith("The DfE's measures for"), "the DfE's measures open from the menu")
    m.page("dfe")
    year = m.find("#year option[selected]").get_attribute("value")
    dfe = api(m.base, f"/v1/reports/dfe?year={year}", token)
    rows = {r.find_element(By.CSS_SELECTOR, "th").text: [td.text for td in r.find_elements(By.CSS_SELECTOR, "td")] for r in m.finds("#dfe-reviews tbody tr")}
    completed = dfe["annualReviews"][0]["review_completed"]
    check(rows["Reviews completed by 31 December"][0] == f"{completed:,}", f"reviews completed are the API's ({completed})")
    requests = [r for r in m.finds("#dfe-requests tbody tr")][0].find_elements(By.CSS_SELECTOR, "td")
    check(requests[1].text == ("87.4%" if year == "2025" else requests[1].text), "England's 6-week figure stands beside the council's")
    link = [a for a in m.finds("a[download]") if "requests" in a.text][0]
    downloaded = m.driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done);", link.get_attribute("href"))
    from_api = api(m.base, f"/v1/reports/dfe?year={year}&table=requests", token, accept="text/csv")
    check(downloaded == from_api and downloaded.startswith("time_period,request_outcome_six_weeks"), "the DfE table's CSV is the API's, byte for byte")
    orders = api(m.base, "/v1/reports/tribunal-orders", token)["rows"]
    check(len(orders) > 0, f"the demo's tribunal orders are reported ({len(orders)} deadlines)")
    m.get("/reports/breaches")
    m.follow(m.driver.find_element(By.LINK_TEXT, "a report of their own"))
    check(m.h1() == "Tribunal orders and conceded appeals", "the breach report links to the tribunal-order report")
    m.page("tribunal-orders")
    check(len(m.finds("#order-deadlines tbody tr")) == len(orders), f"it lists the API's {len(orders)} deadlines")
    link = m.driver.find_element(By.PARTIAL_LINK_TEXT, "Download this report as CSV")
    downloaded = m.driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done);", link.get_attribute("href"))
    check(downloaded == api(m.base, "/v1/reports/tribunal-orders", token, accept="text/csv"), "and its CSV is the API's, byte for byte")
    ordered = orders[0]["caseId"].lower()
    m.get(f"/cases/{ordered}")
    link = m.driver.find_element(By.PARTIAL_LINK_TEXT, "tribunal evidence pack")
    downloaded = m.driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done);", link.get_attribute("href"))
    from_api = api(m.base, f"/v1/cases/{ordered}/tribunal-evidence", token, accept="text/csv")
    check(downloaded == from_api and downloaded.startswith("section,version,occurredOn"),
          "a case with a tribunal order links to its evidence pack, the API's file byte for byte")

    print("==> The manager reassigns a case and downloads a SEN2 module", flush=True)
    m.get(f"/cases/{case_id}")
    m.follow(m.driver.find_element(By.LINK_TEXT, "Reassign this case"))
    check(m.h1() == "Caseworker assigned", "a manager can reassign from the case page")
    m.page("reassign")
    today = time.gmtime()
    for field, value in [("occurredOn-day", str(today.tm_mday)), ("occurredOn-month", str(today.tm_mon)), ("occurredOn-year", str(today.tm_year)),
                         ("caseworker", "Sam Newcaseworker"), ("team", "North")]:
        m.find("#" + field).send_keys(value)
    m.follow(m.find("form button.button"))
    m.follow([x for x in m.finds("button") if x.text == "Record"][0])
    holder = [r for r in m.finds(".summary-list__row") if "Caseworker" in r.text]
    check(m.h1() == reference and holder and "Sam Newcaseworker" in holder[0].text, "the case now shows its new caseworker")
    m.get("/reports/sen2")
    check(m.h1() == "SEN2 return", "the SEN2 page opens")
    m.page("sen2")
    link = m.finds("table a[download]")[0]
    name = link.text.replace("Download ", "").replace(" as CSV", "")
    year = m.find("#year option[selected]").get_attribute("value")
    downloaded = m.driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; fetch(arguments[0]).then(r => r.text()).then(done);", link.get_attribute("href"))
    from_api = api(m.base, f"/v1/exports/sen2?year={year}&module={name}", token, accept="text/csv")
    check(downloaded == from_api and downloaded.count("\n") >= 1, f"the {name} module is the API's file, byte for byte ({len(downloaded)} bytes)")


def events_on(data_dir, case_id):
    return int(psql(data_dir, f"SELECT count(*) FROM events WHERE case_id = '{case_id}'"))


def api(base, path, token, accept="application/json"):
    """The JSON API as another program would call it: the figures the pages must match."""
    request = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}", "Accept": accept})
    with urllib.request.urlopen(request) as response:
        body = response.read()
    return json.loads(body) if accept == "application/json" else body.decode()


def run(b, data_dir, case_id, reference, caseworker, tokens):
    print("==> A caseworker signs in", flush=True)
    b.get("/")
    check(b.driver.current_url.endswith("/sign-in?next=/") or "/sign-in" in b.driver.current_url, "signed out, my work sends you to sign in")
    b.page("sign-in")
    b.sign_in(caseworker, "wrong password")
    check("Enter a correct username and password" in b.find(".error-summary").text, "a wrong password is refused without saying which part was wrong")
    b.page("sign-in-error")
    b.sign_in("nobody-at-all", "wrong password")
    check("Enter a correct username and password" in b.find(".error-summary").text, "an unknown user gets the same message")
    cookies_before = {c["name"] for c in b.driver.get_cookies()}
    b.sign_in(caseworker, PASSWORD)
    check(b.h1() == "My work", "signing in lands on my work")
    session = next((c for c in b.driver.get_cookies() if c["name"] == "ehcp_session"), None)
    check(session is not None and session["httpOnly"] and session.get("sameSite") == "Lax", "the session cookie is HttpOnly and SameSite=Lax")
    check("ehcp_session" not in cookies_before, "no session before signing in")
    b.page("my-work")
    b.snapshot("readme-my-work")
    check(reference in b.driver.page_source, "my work lists the case assigned to me")

    print("==> Finds the case", flush=True)
    b.get("/cases")
    b.find("#q").send_keys(reference)
    b.follow(b.find("form.filters button"))
    check("q=" not in b.driver.current_url and reference not in b.driver.current_url, "the search is not in the URL")
    links = [a for a in b.finds("table a") if a.text == reference]
    check(len(links) == 1, "searching by reference finds the case")
    b.page("cases")
    b.follow(links[0])
    check(b.h1() == reference, "the case page opens")
    b.page("case")
    b.snapshot("readme-case", height=1450)
    advice_rows = [r for r in b.finds("table tr") if "Advice received" in r.text and "R-ADVICE-6W" in r.text and "Not yet" in r.text]
    check(len(advice_rows) >= 1, "the case page shows an advice deadline not yet met")
    check(len(b.finds("svg[role=img] desc")) >= 1, "the case page draws the 20-week clock with a text alternative")

    print("==> A refused event shows its error summary and writes nothing", flush=True)
    before = events_on(data_dir, case_id)
    b.follow(b.find("a.button"))
    b.page("record-choose")
    b.follow(b.driver.find_element(By.LINK_TEXT, "Advice received"))
    b.page("record-form")
    b.find("#occurredOn-day").send_keys("1")
    b.find("#occurredOn-month").send_keys("1")
    b.find("#occurredOn-year").send_keys("2099")
    b.finds("input[name=adviceId]")[0].click()
    b.follow(b.find("form button.button"))
    summary = b.finds(".error-summary")
    check(len(summary) == 1 and "after today" in summary[0].text, "a date in the future is refused in the error summary")
    check(b.driver.title.startswith("Error: "), "the page title starts with Error:")
    b.page("record-form-error")
    check(events_on(data_dir, case_id) == before, "the refused event wrote nothing")

    print("==> Records advice received with the keyboard alone, through check your answers", flush=True)
    for field, value in [("occurredOn-day", ""), ("occurredOn-month", ""), ("occurredOn-year", "")]:
        b.find("#" + field).clear()
    today = time.gmtime()
    b.find("#occurredOn-day").click()
    active = b.driver.switch_to.active_element
    active.send_keys(str(today.tm_mday), Keys.TAB, str(today.tm_mon), Keys.TAB, str(today.tm_year))
    advice_id = b.finds("input[name=adviceId]")[0].get_attribute("value")
    b.driver.switch_to.active_element.send_keys(Keys.TAB)
    b.driver.switch_to.active_element.send_keys(Keys.SPACE)  # selects the first radio
    b.driver.switch_to.active_element.send_keys(Keys.TAB)
    b.press(Keys.ENTER)  # Continue
    check(b.h1() == "Check your answers", "the answers go to check your answers")
    b.page("record-check")
    record = [x for x in b.finds("button") if x.text == "Record"][0]
    for _ in range(30):
        if b.driver.switch_to.active_element == record:
            break
        b.driver.switch_to.active_element.send_keys(Keys.TAB)
    check(b.driver.switch_to.active_element == record, "the Record button is reached with the tab key")
    # What a second press of Record would send, kept to send again once the first has recorded.
    second_press = b.driver.execute_script(
        "const f = arguments[0].form; return [f.action, new URLSearchParams(new FormData(f)).toString()];", record)
    b.press(Keys.ENTER)
    check(b.h1() == reference and "recorded" in b.find(".notification-banner").text, "recording returns to the case with a success banner")
    check(events_on(data_dir, case_id) == before + 1, "one event was written")
    met = [r for r in b.finds("table tr") if "R-ADVICE-6W" in r.text and f"({advice_id})" in r.text]
    check(len(met) == 1 and ("Met" in met[0].text), f"the advice deadline for {advice_id} turned to met")
    b.page("case-after-record")
    status, landed = b.driver.execute_async_script(
        """const done = arguments[arguments.length - 1];
           fetch(arguments[0], {method: "POST", body: arguments[1], headers: {"Content-Type": "application/x-www-form-urlencoded"}})
             .then(r => r.text().then(t => done([r.status, t])));""", second_press[0], second_press[1])
    check(status == 200 and reference in landed and "Page not found" not in landed,
          f"pressing Record a second time lands on the case, as the first press did (got {status}: "
          + (re.search(r"<h1[^>]*>([^<]*)", landed) or re.search("(.{0,80})", landed)).group(1) + ")")
    check(events_on(data_dir, case_id) == before + 1, "and writes nothing more")

    print("==> Opens a case, records a decision, has a rule refuse an exception, and marks an entry as recorded in error", flush=True)
    b.get("/cases/new")
    check(b.h1() == "Open a case", "the open-a-case page opens")
    b.page("open-case")
    b.follow(b.find("form button.button"))
    check(len(b.finds(".error-summary li")) == 5, "an empty form names each of its five questions")
    b.find("#forename").send_keys("Testy")
    b.find("#surname").send_keys("Browserchild")
    for field, value in [("bornOn-day", "3"), ("bornOn-month", "4"), ("bornOn-year", "2017"),
                         ("requestedOn-day", str(today.tm_mday)), ("requestedOn-month", str(today.tm_mon)), ("requestedOn-year", str(today.tm_year))]:
        b.find("#" + field).send_keys(value)
    b.find("#requestSource-parent").click()
    b.follow(b.find("form button.button"))
    check(b.h1() == "Check your answers" and "Testy" in b.find(".summary-list").text, "the new case's answers are shown to check")
    b.page("open-check")
    check("Testy" not in b.driver.current_url, "the child's name is not in the URL")
    b.follow([x for x in b.finds("button") if x.text == "Open the case"][0])
    new_case = b.driver.current_url.split("/cases/")[1].split("?")[0]
    check(b.h1().startswith("EHC-") and "Testy Browserchild" in b.driver.page_source, "the case opens on its page")
    new_events = events_on(data_dir, new_case)
    check(new_events == 1, "one event opened it")
    b.follow(b.find("a.button"))
    b.follow(b.driver.find_element(By.LINK_TEXT, "Exception to a time limit"))
    for field, value in [("occurredOn-day", str(today.tm_mday)), ("occurredOn-month", str(today.tm_mon)), ("occurredOn-year", str(today.tm_year)),
                         ("exceptionId", "X1")]:
        b.find("#" + field).send_keys(value)
    b.find("#ground-missedAppointment").click()
    b.find("#rules-R-DECIDE-6W").click()
    b.follow(b.find("form button.button"))
    summary = b.find(".error-summary").text
    check("R-DECIDE-6W" in summary and "regulations 4(1) and 5(1)" in summary and "Missed appointment is not a ground" in summary,
          "an exception on a ground the regulations do not allow is refused, naming the rule and its regulation")
    b.page("record-form-rule-refusal")
    check(events_on(data_dir, new_case) == new_events, "and nothing is written")
    b.get(f"/cases/{new_case}/record/DecidedToAssess")
    for field, value in [("occurredOn-day", str(today.tm_mday)), ("occurredOn-month", str(today.tm_mon)), ("occurredOn-year", str(today.tm_year))]:
        b.find("#" + field).send_keys(value)
    b.follow(b.find("form button.button"))
    b.follow([x for x in b.finds("button") if x.text == "Record"][0])
    decide = [r for r in b.finds("table tr") if "R-DECIDE-6W" in r.text]
    check(len(decide) == 1 and "Met" in decide[0].text, "deciding to assess meets the 6-week decision deadline")
    b.get(f"/cases/{new_case}/events/2/retract")
    b.page("change-entry")
    b.find("#reason").send_keys("Logged on the wrong case")
    b.follow(b.find("form button.button"))
    b.follow([x for x in b.finds("button") if x.text == "Record"][0])
    check("recorded in error" in b.find("#entry-2").text and "Marked as recorded in error by entry 3" in b.find("#entry-2").text,
          "the entry is shown as recorded in error, against the entry that says so")
    decide = [r for r in b.finds("table tr") if "R-DECIDE-6W" in r.text]
    check(len(decide) == 1 and "Met" not in decide[0].text, "and the decision deadline is open again")
    check(events_on(data_dir, new_case) == 3, "history only grows: three entries")

    print("==> Alerts", flush=True)
    b.get("/alerts")
    check(b.h1() == "Alerts", "the alerts page opens")
    b.page("alerts")

    b.get("/dashboard")
    check(b.h1() == "You cannot see this page", "a caseworker who opens the dashboard is told it is not for their role")
    b.page("forbidden")

    print("==> A form posted without its token is refused", flush=True)
    cookie = {c["name"]: c["value"] for c in b.driver.get_cookies()}["ehcp_session"]
    request = urllib.request.Request(
        b.base + f"/cases/{case_id}/record/DecidedToAssess", data=b"step=record&occurredOn-day=1&occurredOn-month=1&occurredOn-year=2026",
        headers={"Cookie": f"ehcp_session={cookie}", "Content-Type": "application/x-www-form-urlencoded"})
    try:
        status = urllib.request.urlopen(request).status
    except urllib.error.HTTPError as error:
        status = error.code
    check(status == 403, f"a POST without the form token gets 403 (got {status})")
    check(events_on(data_dir, case_id) == before + 1, "and writes nothing")

    print("==> A manager sets up an authenticator app, as the council's settings ask", flush=True)
    manager = Browser(b.base)
    try:
        manager.sign_in("mgr-one", PASSWORD)
        check(manager.h1() == "Set up your authenticator app", "a manager is asked to set up a second factor after the password")
        check(len(manager.finds(".qr-code svg[role=img]")) == 1, "the page shows a QR code drawn as SVG, with a label")
        manager.page("set-up-code")
        key = manager.find(".qr-code__key").text.replace(" ", "")
        manager.find("#code").send_keys("000000")
        manager.follow(manager.find("form button.button"))
        check("The code is not right" in manager.find(".error-summary").text, "a wrong code is refused")
        manager.page("set-up-code-error")
        enrolled_at = time.time()
        manager.find("#code").send_keys(totp(key, at=enrolled_at))
        manager.follow(manager.find("form button.button"))
        check(manager.h1() == "My work", "the right code from the app signs the manager in")
        manager.follow(manager.find(".header__link-button"))
        manager.sign_in("mgr-one", PASSWORD)
        check(manager.h1() == "Enter your code", "next time, the code is asked for after the password")
        manager.page("enter-code")
        manager.find("#code").send_keys(totp(key, at=enrolled_at))  # the code that set it up: spent
        manager.follow(manager.find("form button.button"))
        refused = manager.finds(".error-summary")
        check(len(refused) == 1 and "The code is not right" in refused[0].text, "a code is good for one sign-in")
        # The next step's code: within the window the service accepts, and never used.
        manager.find("#code").send_keys(totp(key, at=enrolled_at + 30))
        manager.follow(manager.find("form button.button"))
        check(manager.h1() == "My work", "and signs them in")
        managers_morning(manager, tokens["mgr-one"], case_id, reference)
        print("==> The manager reads the emails that were not delivered", flush=True)
        psql(data_dir, """INSERT INTO outbox (delivery_id, council_id, channel, recipient, digest_day, payload, dead_at, attempts, last_error)
                          SELECT gen_random_uuid(), council_id, 'email', 'mgr-one', current_date,
                                 '{"kind": "digest", "subject": "Your EHCP deadlines: a test", "body": "", "personalisation": {}}',
                                 now(), 8, 'failed: the relay did not answer' FROM councils WHERE code = 'DEMO-1'""")
        manager.get("/alerts")
        manager.follow(manager.driver.find_element(By.LINK_TEXT, "Alerts not delivered"))
        rows = [r.text for r in manager.finds("table tr")]
        check(any("Your EHCP deadlines: a test" in r and "the relay did not answer" in r for r in rows),
              "the undelivered page lists a dead email with its reason")
        check(not manager.finds("form[action*=redrive]"), "only an administrator may send it again")
        manager.page("alerts-not-delivered")
    finally:
        manager.quit()

    print("==> Chooses which alerts are emailed, and sees when the address bounces", flush=True)
    ehcp_beside(data_dir, "users", "set-email", caseworker, "caseworker@example.com", "--council", "DEMO-1")
    b.get("/")
    b.follow(b.driver.find_element(By.LINK_TEXT, "Your email alerts"))
    check(b.h1() == "Your email alerts", "the header links to your email alerts")
    check("caseworker@example.com" in b.find(".summary-list").text, "the page shows the address an administrator set")
    check(b.find("#onBreach").is_selected() and not b.find("#onReminder").is_selected() and b.find("#dailyDigest").is_selected(),
          "by default: an email on a breach and a daily summary, none on a reminder")
    b.page("email-alerts")
    b.find("#onReminder").click()
    b.find("#dailyDigest").click()
    b.follow(b.find("form button.button"))
    check("Your email choices are saved" in b.find(".notification-banner").text, "saving shows a success banner")
    me = api(b.base, "/v1/me", tokens[caseworker])
    check(me["email"] == {"address": "caseworker@example.com", "onBreach": True, "onReminder": True, "dailyDigest": False},
          "the API reads back the choices the page saved")
    check(b.find("#onReminder").is_selected() and not b.find("#dailyDigest").is_selected(), "and the page shows them")
    psql(data_dir, f"UPDATE users SET email_failed_at = now(), email_failure = 'the relay refused the recipient: 550 mailbox unavailable' WHERE name = '{caseworker}'")
    b.get("/account")
    warning = b.finds(".warning-text")
    check(len(warning) == 1 and "not being delivered" in warning[0].text, "a bounced address is shown to its owner as a warning")
    b.page("email-alerts-bounced")
    b.snapshot("email-alerts-bounced")

    print("==> Another council's caseworker gets page not found", flush=True)
    other = Browser(b.base)
    try:
        other.sign_in("cw-other", OTHER_PASSWORD)
        other.get(f"/cases/{case_id}")
        check(other.h1() == "Page not found", "a case page of another council is not found")
        other.page("not-found")
        other.get(f"/cases/{case_id}/record")
        check(other.h1() == "Page not found", "and so is its record page")
    finally:
        other.quit()

    print("==> An expired session goes back to sign-in", flush=True)
    psql(data_dir, "UPDATE web_sessions SET last_seen_at = now() - interval '31 minutes'")
    b.get(f"/cases/{case_id}")
    check("/sign-in" in b.driver.current_url and b.h1() == "Sign in", "after 30 minutes idle, the case page asks you to sign in")
    b.sign_in(caseworker, PASSWORD, navigate=False)
    check(b.h1() == reference, "and signing in again returns to the case")

    print("==> Signing out", flush=True)
    b.follow(b.find(".header__link-button"))
    check(b.h1() == "Sign in", "signing out returns to sign in")
    b.get("/")
    check("/sign-in" in b.driver.current_url, "and the session has ended")


if __name__ == "__main__":
    main()
