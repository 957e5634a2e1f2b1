"""Request bodies of the JSON API, validated before any model work starts."""

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

MAX_TEXT_CHARS = 20_000
ModelName = Literal["trained", "untrained"]
Index = Annotated[int, Field(ge=0)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextRequest(Strict):
    text: str = Field(
        min_length=1,
        max_length=MAX_TEXT_CHARS,
        pattern=r"[^\s\x1c-\x1f]",  # at least one character that is not whitespace
        description="the sentence to run the model on",
    )
    model: ModelName = Field("trained", description="'trained' or its 'untrained' twin")

    @field_validator("text")
    @classmethod
    def encodable(cls, text: str) -> str:
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise ValueError(
                f"text holds {text[e.start : e.end]!r}, which is not a character"
            ) from e
        return text


class AttentionRequest(TextRequest):
    layer: int = Field(ge=0, description="layer index, from 0")
    head: int = Field(ge=0, description="query head index within the layer, from 0")


class PredictRequest(TextRequest):
    k: int = Field(10, ge=1, le=50, description="how many candidates to return")


class TargetRequest(TextRequest):
    target: str | None = Field(
        None,
        max_length=100,
        description="the answer token as text (e.g. ' Paris'); "
        "default: the model's top-1 next token",
    )


class PositionRequest(TargetRequest):
    position: int = Field(
        -1,
        ge=-100_000,
        le=100_000,
        description="token index whose next-token guess is explained; -1 is the last",
    )


class LensRequest(PositionRequest):
    k: int = Field(5, ge=1, le=20)


class NeuronsRequest(PositionRequest):
    k: int = Field(8, ge=1, le=50)


class AblateRequest(TargetRequest):
    heads: list[tuple[Index, Index]] = Field(
        default_factory=list, max_length=512, description="[layer, head] pairs to remove"
    )
    mlps: list[Index] = Field(
        default_factory=list, max_length=512, description="MLP layers to remove"
    )
    mode: Literal["zero", "mean"] = "zero"
    k: int = Field(5, ge=1, le=20)


# ---- responses: documented in the OpenAPI schema, so that clients (and fuzzers) can check them


class ErrorDetail(BaseModel):
    type: str = Field(description="the kind of error, e.g. EmptyTextError")
    message: str = Field(description="one sentence: what arrived and what is allowed")


class ErrorBody(BaseModel):
    error: ErrorDetail


class TokenOut(BaseModel):
    id: int
    text: str
    start: int
    end: int
    word: int


class Tokenized(BaseModel):
    tokens: list[TokenOut]
    n: int


class WithTokens(BaseModel):
    tokens: list[TokenOut]
    words: list[list[int]] = Field(description="token indices grouped into words")


class AttentionOut(WithTokens):
    model: str
    trained: bool
    layer: int
    head: int
    kv_head: int
    heads_sharing_kv: list[int]
    d_head: int
    pattern: list[list[float]] = Field(description="row i: weights on tokens 0..i")
    dot: list[list[float]] = Field(description="row i: raw q·k with tokens 0..i")
    scores: list[list[float]] = Field(description="row i: q·k / sqrt(d_head)")
    value_size: list[float] = Field(description="size of what each token says through W_O")
    entropy: list[float] = Field(description="each row's normalised entropy, 0 to 1")


class HeadsOut(WithTokens):
    model: str
    trained: bool
    n_layers: int
    n_heads: int
    size: int = Field(description="side of each thumbnail")
    thumbnails: str = Field(description="base64 bytes 0-255: per head, lower triangle by rows")
    sink: list[list[float]]
    entropy: list[list[float]]
    previous: list[list[float]]


class Picture(BaseModel):
    rows: int
    cols: int
    pooled_columns: int
    scale: float
    pixels: str = Field(description="base64 signed bytes -127..127, row by row")


class MatrixOut(BaseModel):
    shape: list[int]
    parameters: int
    layer_shape: list[int]
    std: float
    mean_abs: float
    picture: Picture


class WeightsOut(BaseModel):
    model: str
    trained: bool
    layer: int
    head: int
    kv_head: int
    heads_sharing_kv: list[int]
    matrices: dict[str, MatrixOut]
    model_parameters: int


class Candidate(BaseModel):
    id: int
    token: str
    logit: float
    prob: float | None = None


class PredictOut(WithTokens):
    top: list[Candidate]


class TokenRef(BaseModel):
    id: int
    token: str


class LensStage(BaseModel):
    after: Literal["embedding", "attention", "mlp"]
    layer: int | None
    top: list[Candidate]
    target_prob: float
    target_rank: int


class LensOut(BaseModel):
    position: int
    target: TokenRef
    stages: list[LensStage]


class AttributionOut(BaseModel):
    position: int
    token: TokenRef
    logit: float
    rms: float
    embed: float
    attn: list[float]
    heads: list[list[float]]
    mlp: list[float]
    total: float


class Neuron(BaseModel):
    layer: int
    neuron: int
    activation: float
    push: float
    promotes: list[Candidate]


class NeuronsOut(BaseModel):
    position: int
    token: TokenRef
    neurons: list[Neuron]


class RolesOut(BaseModel):
    definitions: dict[str, str]
    probe: dict[str, int]
    scores: dict[str, list[list[float]]]


class AblationTarget(BaseModel):
    id: int
    token: str
    logit_before: float
    logit_after: float
    prob_before: float
    prob_after: float
    rank_after: int


class Removed(BaseModel):
    heads: list[list[int]]
    mlps: list[int]


class AblateOut(BaseModel):
    removed: Removed
    mode: str
    target: AblationTarget
    before: list[Candidate]
    after: list[Candidate]


class ModelInfo(BaseModel):
    name: str
    config: dict[str, str | int | float | bool]


class InfoOut(BaseModel):
    model: ModelInfo
    models: list[str]
    limits: dict[str, int]
    examples: list[dict[str, str | int]]
    fact_prompts: list[dict[str, str]]
    roles: dict[str, str]


class Health(BaseModel):
    ok: bool
    cache: dict[str, int]
