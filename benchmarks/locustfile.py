"""The traffic of a class using the guide: the page and its files, the curated sentences
(repeated, so mostly cached), new sentences (never seen), and the chapter-3 analyses."""

import random

from locust import HttpUser, between, task

WORDS = [
    "the",
    "a",
    "my",
    "our",
    "their",
    "quiet",
    "bright",
    "old",
    "young",
    "clever",
    "tired",
    "happy",
    "cat",
    "dog",
    "teacher",
    "student",
    "river",
    "city",
    "garden",
    "window",
    "letter",
    "song",
    "idea",
    "morning",
    "evening",
    "saw",
    "found",
    "wrote",
    "carried",
    "opened",
    "liked",
    "remembered",
    "near",
    "under",
    "after",
    "before",
    "because",
    "while",
    "and",
    "but",
    "then",
]
STATIC = ("/", "/js/app.js", "/js/state.js", "/js/api.js", "/css/base.css")


class Learner(HttpUser):
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        info = self.client.get("/api/info").json()
        self.examples = info["examples"]
        self.prompts = [p["text"] for p in info["fact_prompts"]]
        self.n_layers = info["model"]["config"]["n_layers"]
        self.n_heads = info["model"]["config"]["n_heads"]
        self.rng = random.Random()

    def post(self, path: str, body: dict, kind: str) -> None:
        self.client.post(path, json=body, name=f"{path} [{kind}]")

    @task(2)
    def page(self) -> None:
        for path in STATIC:
            self.client.get(path, name="static" if path != "/" else "/")

    @task(4)
    def curated_sentence(self) -> None:
        ex = self.rng.choice(self.examples)
        body = {"text": ex["text"], "layer": ex["layer"], "head": ex["head"]}
        self.post("/api/attention", body, "repeated")

    @task(1)
    def curated_grid(self) -> None:
        self.post("/api/heads", {"text": self.rng.choice(self.examples)["text"]}, "repeated")

    @task(2)
    def new_sentence(self) -> None:
        text = " ".join(self.rng.choice(WORDS) for _ in range(self.rng.randint(6, 16)))
        layer, head = self.rng.randrange(self.n_layers), self.rng.randrange(self.n_heads)
        self.post("/api/attention", {"text": text + ".", "layer": layer, "head": head}, "new")

    @task(2)
    def analyses(self) -> None:
        text = self.rng.choice(self.prompts)
        path = self.rng.choice(("/api/lens", "/api/attribution", "/api/neurons"))
        self.post(path, {"text": text}, "repeated")
        self.client.get("/api/roles")
