"""Generated requests against the API's own OpenAPI schema: no server errors, and every answer
matches the schema it documents."""

from collections import Counter

import schemathesis
from hypothesis import HealthCheck, given, settings

from cocktail_party.server.app import create_app

# Valid JSON can still be refused: a text whose token count is over the limit, or a target that is
# not one token, cannot be described in the schema; such answers are checked (422 with a
# documented error body), only not counted as failures.
EXCLUDED = [schemathesis.checks.positive_data_acceptance]

EXAMPLES_PER_OPERATION = 150
MIN_CASES = 1000
SETTINGS = settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,  # the same cases every run, so a failure can be replayed
    suppress_health_check=list(HealthCheck),
    database=None,
)


def generated_cases_of(operation, counts: Counter[str]):
    """A hypothesis test that calls one operation with generated requests and checks answers."""

    @SETTINGS
    @given(case=operation.as_strategy())
    def check(case) -> None:
        counts[operation.label] += 1
        case.call_and_validate(excluded_checks=EXCLUDED)

    return check


def test_api_answers_every_generated_request(real_model):
    schema = schemathesis.openapi.from_asgi("/api/openapi.json", create_app(real_model))
    counts: Counter[str] = Counter()
    for result in schema.get_all_operations():
        generated_cases_of(result.ok(), counts)()
    total = sum(counts.values())
    print(f"\n{total} generated cases: " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    assert len(counts) >= 12, f"only {sorted(counts)} were exercised"
    assert total >= MIN_CASES, f"only {total} generated cases ran"
