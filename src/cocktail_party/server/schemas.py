"""Request bodies of the JSON API, validated before any model work starts."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MAX_TEXT_CHARS = 20_000
ModelName = Literal["trained", "untrained"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TextRequest(Strict):
    text: str = Field(max_length=MAX_TEXT_CHARS, description="the sentence to run the model on")
    model: ModelName = Field("trained", description="'trained' or its 'untrained' twin")


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


class LensRequest(TargetRequest):
    k: int = Field(5, ge=1, le=20)


class NeuronsRequest(TargetRequest):
    k: int = Field(8, ge=1, le=50)


class AblateRequest(TargetRequest):
    heads: list[tuple[int, int]] = Field(
        default_factory=list, max_length=512, description="[layer, head] pairs to remove"
    )
    mlps: list[int] = Field(
        default_factory=list, max_length=512, description="MLP layers to remove"
    )
    mode: Literal["zero", "mean"] = "zero"
    k: int = Field(5, ge=1, le=20)
