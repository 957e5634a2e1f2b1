"""The ASGI app: the JSON API that the guide uses, the static guide itself, and their limits."""

import logging
from collections.abc import Callable
from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from starlette.middleware.gzip import GZipMiddleware
from starlette.types import ASGIApp, Receive, Scope, Send

from .. import analysis
from ..errors import CocktailPartyError, InputError, OutOfRangeError
from ..model import Model, Trace
from . import schemas, views
from .runner import BusyError, Models

log = logging.getLogger("cocktail_party.server")

MAX_BODY_BYTES = 64 * 1024
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
        "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; "
        "frame-ancestors 'none'; form-action 'self'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "no-referrer",
    "x-frame-options": "DENY",
}


class Guard:
    """Adds the security headers to every response and refuses bodies over MAX_BODY_BYTES."""

    def __init__(self, app: ASGIApp):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope["headers"]).get(b"content-length", b"0")
        if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            message = f"the request body has {int(declared)} bytes; the limit is {MAX_BODY_BYTES}"
            response = _error(413, "BodyTooLarge", message)
            return await self._with_headers(response, scope, receive, send)
        await self._with_headers(self.app, scope, receive, send)

    async def _with_headers(self, app: ASGIApp, scope: Scope, receive: Receive, send: Send):
        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, send_with_headers)


def _error(status: int, kind: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"type": kind, "message": message}}, status, headers)


def _describe(err: dict) -> str:
    """One clause for one validation error: the field, what is wrong, and what arrived."""
    where = ".".join(str(x) for x in err.get("loc", ()) if x != "body") or "body"
    got = err.get("input")
    if where == "text" and err.get("type") in ("string_too_short", "string_pattern_mismatch"):
        return f"text is empty or only whitespace ({len(got)} characters); give some words"
    if err.get("type") == "json_invalid":
        at = err.get("loc", ("body", "?"))[-1]
        return f"the body is not valid JSON (at character {at}); send a JSON object"
    if where == "text" and err.get("type") == "string_too_long":
        return f"text has {len(got)} characters; the limit is {schemas.MAX_TEXT_CHARS}"
    shown = f" (got {str(got)[:60]!r})" if got is not None and not isinstance(got, dict) else ""
    return f"{where}: {err.get('msg', 'invalid')}{shown}"


def _validation_message(exc: RequestValidationError) -> str:
    return "; ".join(_describe(err) for err in exc.errors()[:3])


ERROR_RESPONSES = {
    413: {"model": schemas.ErrorBody, "description": "the request body is over the size limit"},
    422: {
        "model": schemas.ErrorBody,
        "description": "the input is not usable; the message says why",
    },
    503: {"model": schemas.ErrorBody, "description": "busy: retry after Retry-After seconds"},
}


def ok(model: type) -> dict:
    """OpenAPI responses of a route: its answer's schema and the shared error bodies."""
    return {200: {"model": model}, **ERROR_RESPONSES}


def web_root() -> Path:
    """The folder of the guide's static files inside the installed package."""
    return Path(str(files("cocktail_party") / "web"))


def create_app(model: Model, models: Models | None = None) -> FastAPI:
    """The guide's app around a loaded trained model."""
    models = models or Models(model)
    app = FastAPI(
        title="cocktail-party",
        summary="How attention works, computed from a real LLM",
        version="0.1.0",
        docs_url=None,  # the interactive docs page loads scripts from elsewhere; the schema stays
        redoc_url=None,
        openapi_url="/api/openapi.json",
    )
    app.state.models = models

    def route(method: str, path: str, summary: str, answer: type):
        """Register an API route whose answer's schema (and the shared errors) the docs show."""
        register = app.get if method == "get" else app.post
        return register(path, summary=summary, response_model=None, responses=ok(answer))

    @app.exception_handler(CocktailPartyError)
    async def on_error(request: Request, exc: CocktailPartyError):
        if isinstance(exc, BusyError):
            return _error(503, "Busy", str(exc), {"retry-after": "1"})
        status = 422 if isinstance(exc, InputError) else 500
        if status == 500:
            log.error("model failure on %s: %s", request.url.path, exc)
        return _error(status, type(exc).__name__, str(exc))

    @app.exception_handler(RequestValidationError)
    async def on_invalid(request: Request, exc: RequestValidationError):
        return _error(422, "InvalidRequest", _validation_message(exc))

    def check_layer_head(m: Model, layer: int, head: int) -> None:
        cfg = m.config
        if layer >= cfg.n_layers:
            raise OutOfRangeError(
                f"layer {layer} is out of range; the model has 0-{cfg.n_layers - 1}"
            )
        if head >= cfg.n_heads:
            raise OutOfRangeError(
                f"head {head} is out of range; each layer has 0-{cfg.n_heads - 1}"
            )

    @route("get", "/api/info", "The model, the limits and the curated examples", schemas.InfoOut)
    async def info() -> dict:
        from .. import examples

        m = models.trained
        return {
            "model": {"name": m.name, "config": m.config.to_dict()},  # names a twin as one
            "models": ["trained", "untrained"],
            "limits": {"max_tokens": m.max_tokens, "max_chars": schemas.MAX_TEXT_CHARS},
            "examples": examples.EXAMPLES,
            "fact_prompts": examples.FACT_PROMPTS,
            "roles": analysis.ROLES,
        }

    async def with_trace(req: schemas.TextRequest, build: Callable[[Model, Trace], dict]) -> dict:
        """Answer from the text's trace: from the cache, or made by one gated model run."""

        def work() -> dict:
            return build(models.get(req.model), models.trace(req.model, req.text))

        return await models.call(work, cached=models.has(req.model, req.text))

    @route("post", "/api/tokenize", "Tokens and words of a text", schemas.Tokenized)
    async def tokenize(req: schemas.TextRequest) -> dict:
        tokens = models.trained.encode(req.text)  # the twin shares the tokenizer
        return {"tokens": [t.__dict__ for t in tokens], "n": len(tokens)}

    @route(
        "post",
        "/api/attention",
        "One head's attention on a text, with q·k and values",
        schemas.AttentionOut,
    )
    async def attention(req: schemas.AttentionRequest) -> dict:
        check_layer_head(models.trained, req.layer, req.head)
        return await with_trace(
            req, lambda m, trace: views.attention_payload(m, trace, req.layer, req.head)
        )

    @route(
        "post",
        "/api/heads",
        "Every head's pattern as a thumbnail, with sink and entropy",
        schemas.HeadsOut,
    )
    async def heads(req: schemas.TextRequest) -> dict:
        return await with_trace(req, lambda m, trace: views.heads_payload(trace))

    @route(
        "get",
        "/api/weights",
        "W_Q, W_K, W_V of one head: shapes, counts, a picture",
        schemas.WeightsOut,
    )
    async def weights(
        layer: int = Query(ge=0), head: int = Query(ge=0), model: schemas.ModelName = "trained"
    ) -> dict:
        check_layer_head(models.trained, layer, head)
        work = lambda: views.weights_payload(models.get(model), layer, head)
        return await models.call(work, cached=models.ready(model))

    @route("post", "/api/predict", "The likeliest next tokens", schemas.PredictOut)
    async def predict(req: schemas.PredictRequest) -> dict:
        def build(m: Model, trace: Trace) -> dict:
            return {**views.tokens_payload(trace), "top": analysis.top_k(m, trace, k=req.k)}

        return await with_trace(req, build)

    @route(
        "post", "/api/lens", "Logit lens: the best guesses after every sublayer", schemas.LensOut
    )
    async def lens(req: schemas.LensRequest) -> dict:
        return await with_trace(
            req, lambda m, t: analysis.logit_lens(m, t, req.position, req.k, req.target)
        )

    @route(
        "post", "/api/attribution", "Direct logit attribution of the answer", schemas.AttributionOut
    )
    async def attribution(req: schemas.PositionRequest) -> dict:
        return await with_trace(
            req, lambda m, t: analysis.logit_attribution(m, t, req.target, req.position)
        )

    @route("post", "/api/neurons", "The neurons that push the answer most", schemas.NeuronsOut)
    async def neurons(req: schemas.NeuronsRequest) -> dict:
        return await with_trace(
            req, lambda m, t: analysis.top_neurons(m, t, req.target, req.position, k=req.k)
        )

    @route("get", "/api/roles", "Measured role scores of every head", schemas.RolesOut)
    async def roles(model: schemas.ModelName = "trained") -> dict:
        return await models.call(lambda: models.roles(model), cached=models.has_roles(model))

    @route(
        "post",
        "/api/ablate",
        "The answer with chosen heads or MLP layers removed",
        schemas.AblateOut,
    )
    async def ablate(req: schemas.AblateRequest) -> dict:
        def work() -> dict:
            m, trace = models.get(req.model), models.trace(req.model, req.text)
            parts = (req.heads, req.mlps, req.mode, req.target, req.k)
            return analysis.ablate(m, req.text, *parts, before=trace.logits[-1])

        return await models.call(work)  # the ablated run is always new: through the gate

    @route("get", "/api/health", "Whether the server is up, and its cache", schemas.Health)
    async def health() -> dict:
        return {"ok": True, "cache": models.cache.stats()}

    app.mount("/", StaticFiles(directory=web_root(), html=True), name="web")
    app.add_middleware(GZipMiddleware, minimum_size=500)
    app.add_middleware(Guard)
    return app
