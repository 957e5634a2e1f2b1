"""Errors that cocktail-party raises on purpose, each with a one-sentence message that says
what arrived and what was expected."""


class CocktailPartyError(Exception):
    """Base class of every error this package raises on purpose."""


class ModelFileError(CocktailPartyError):
    """The model file is missing, unreadable or not a GGUF file."""


class UnsupportedModelError(CocktailPartyError):
    """The GGUF file holds an architecture, tensor or quantisation this engine cannot run."""


class InputError(CocktailPartyError, ValueError):
    """The text or an option given to the model is not usable."""


class EmptyTextError(InputError):
    """The text is empty or only whitespace."""


class TooManyTokensError(InputError):
    """The text has more tokens than the configured limit or the model's context."""


class UnknownNameError(InputError, KeyError):
    """A requested internal, layer, head or token does not exist."""

    def __str__(self) -> str:  # KeyError would quote the message
        return str(self.args[0]) if self.args else ""


class OutOfRangeError(InputError, IndexError):
    """A layer, head, position or token index lies outside what the model or text has."""
