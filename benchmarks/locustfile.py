"""Locust users: coordinators browsing and editing profiles, and people clicking e-mail links.

Started by benchmarks/load.py, which prepares the database and passes the plan (accounts,
editable profiles, link tokens) in the file named by LOAD_PLAN.
"""
from __future__ import annotations

import itertools
import json
import os
import random
import re
from html.parser import HTMLParser
from urllib.parse import urlencode

from locust import between, constant_throughput, task
from locust.contrib.fasthttp import FastHttpUser

PLAN = json.loads(open(os.environ["LOAD_PLAN"]).read())  # noqa: SIM115
THINK = tuple(float(s) for s in os.environ.get("LOAD_THINK", "1,3").split(","))
CLICKS_PER_MINUTE = float(os.environ.get("LOAD_CLICKS_PER_MINUTE", "200"))
CLICKERS = int(os.environ.get("LOAD_CLICKERS", "4"))
COORDINATORS = len(PLAN["accounts"])
ACCOUNT = itertools.count()

VOLUNTEER_LISTS = [
    "/vrijwilligers/", "/vrijwilligers/?status=available&language=nl",
    "/vrijwilligers/?status=available&pc4=352", "/vrijwilligers/?sort=postcode&page=40",
    "/vrijwilligers/?q=bakker", "/vrijwilligers/?status=new&sort=registered",
]
RESIDENT_LISTS = [
    "/deelnemers/", "/deelnemers/?status=waiting&min_wait=180&sort=waiting",
    "/deelnemers/?sort=waiting&dir=desc&page=60", "/deelnemers/?q=0612",
    "/deelnemers/?status=referred",
]
DETAIL = re.compile(r'href="/(vrijwilligers|deelnemers)/([0-9a-f]{32})"')
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


class FormFields(HTMLParser):
    """The values a browser would submit for the profile form (inputs, selects, textareas)."""

    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []
        self._select: str | None = None
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text")
            if kind in {"checkbox", "radio"} and "checked" not in a:
                return
            if kind not in {"submit", "button"}:
                self.fields.append((name, a.get("value") or ""))
        elif tag == "select" and name:
            self._select = name
        elif tag == "option" and self._select and "selected" in a:
            self.fields.append((self._select, a.get("value") or ""))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def handle_data(self, data: str) -> None:
        if self._textarea:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select":
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, self._text.strip("\n")))
            self._textarea = None


def form_of(page: str) -> list[tuple[str, str]]:
    parser = FormFields()
    # Only the profile form, not the language switch or the logout form in the header.
    start = page.find('<form method="post" novalidate')
    parser.feed(page[start:page.find("</form>", start)] if start >= 0 else page)
    return parser.fields


class Coordinator(FastHttpUser):
    """Logs in once with its own account, then browses lists and details and edits profiles."""

    fixed_count = COORDINATORS
    wait_time = between(*THINK)

    def on_start(self) -> None:
        self.n = next(ACCOUNT) % COORDINATORS
        self.seen: list[str] = []
        page = self.client.get("/login", name="login page").text
        token = CSRF.search(page).group(1)  # type: ignore[union-attr]
        with self.client.post("/login", name="login", allow_redirects=False, catch_response=True,
                              data={"email": PLAN["accounts"][self.n], "csrf_token": token,
                                    "password": PLAN["password"]}) as response:
            if response.status_code != 302:
                response.failure(f"login refused: {response.status_code}")

    @task(6)
    def list_page(self) -> None:
        path = random.choice(VOLUNTEER_LISTS + RESIDENT_LISTS)
        page = self.client.get(path, name="list").text
        self.seen = [f"/{kind}/{id}" for kind, id in DETAIL.findall(page)][:20] or self.seen

    @task(3)
    def detail_page(self) -> None:
        if self.seen:
            self.client.get(random.choice(self.seen), name="detail")

    @task(1)
    def home(self) -> None:
        self.client.get("/", name="home")

    @task(1)
    def edit(self) -> None:
        mine = PLAN["editable"][self.n]
        if not mine:
            return
        path = f"/vrijwilligers/{random.choice(mine)}/bewerken"
        fields = [(k, v) for k, v in form_of(self.client.get(path, name="edit form").text)
                  if k != "notes"]
        fields.append(("notes", f"Belronde {random.randint(1, 10**6)}"))
        with self.client.post(path, data=urlencode(fields), name="edit save",
                              allow_redirects=False, catch_response=True,
                              headers={"Content-Type": "application/x-www-form-urlencoded"},
                              ) as response:
            if response.status_code != 302:
                response.failure(f"save refused: {response.status_code}")


class LinkClicker(FastHttpUser):
    """Someone opening the link in an e-mail (GET only: opening a link changes nothing)."""

    fixed_count = CLICKERS
    wait_time = constant_throughput(CLICKS_PER_MINUTE / 60 / CLICKERS)

    @task
    def click(self) -> None:
        token = random.choice(PLAN["tokens"])
        self.client.get(f"/aanmelden/bevestig/{token}", name="link")
