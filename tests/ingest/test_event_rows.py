"""MLServer / Seldon Core events, routing by service, endpoint or model, and naming an event's rows for a monitor."""

from __future__ import annotations

import base64

import orjson
import pytest

from driftwatch.config import CloudEventRoute
from driftwatch.ingest.cloudevents import (
    CloudEvent,
    EventError,
    event_rows,
    find_route,
    parse_cloudevent,
    reject_reason,
)
from driftwatch.ingest.payloads import PayloadError

SELDON_REQUEST = "io.seldon.serving.inference.request"
SELDON_RESPONSE = "io.seldon.serving.inference.response"
KSERVE_REQUEST = "org.kubeflow.serving.inference.request"
KSERVE_RESPONSE = "org.kubeflow.serving.inference.response"
FEATURES = ("patient_age", "heart_rate", "temperature_c", "channel", "predicted_urgency")
V2_REQUEST = {"inputs": [{"name": "predict", "shape": [1, 3], "datatype": "FP32", "data": [[41, 80, 37.2]]}]}


def _mlserver_headers(kind: str, request_id: str = "7f1c", specversion: str = "0.3") -> dict[str, str]:
    """Headers as MLServer's CloudEvents middleware sets them (ce-id and requestid both the inference id)."""
    return {
        "Ce-Specversion": specversion,
        "Ce-Source": "io.seldon.serving.deployment.mlserver.triage",
        "Ce-Type": kind,
        "Ce-Modelid": "triage-sklearn",
        "Ce-Inferenceservicename": "mlserver",
        "Ce-Endpoint": "triage-sklearn",
        "Ce-Id": request_id,
        "Ce-Requestid": request_id,
        "Ce-Namespace": "triage",
        "Content-Type": "application/json",
    }


def _event(kind: str, data: object, **extra: str | None) -> CloudEvent:
    fields: dict = {"inference_service": "triage-model", "endpoint": None} | extra
    return CloudEvent(id="r1", type=kind, source="s", specversion="1.0", data=data, **fields)


def _route(**fields: object) -> CloudEventRoute:
    return CloudEventRoute.model_validate({"inference_service": "triage-model", "monitor": "triage"} | fields)


def _rejected(status: int, reason: str, needle: str, func, *args) -> str:
    with pytest.raises(PayloadError) as info:
        func(*args)
    assert (info.value.status, reject_reason(info.value)) == (status, reason)
    message = str(info.value)
    assert needle in message and "None" not in message
    return message


# MLServer / Seldon Core events


def test_mlserver_binary_event_specversion_03() -> None:
    event = parse_cloudevent(_mlserver_headers(SELDON_REQUEST), orjson.dumps(V2_REQUEST))
    assert (event.kind, event.specversion, event.model, event.inference_service) == (
        "request",
        "0.3",
        "triage-sklearn",
        "mlserver",
    )
    assert (event.join_id, event.namespace, event.data) == ("7f1c", "triage", V2_REQUEST)


def test_seldon_halves_join_by_requestid_not_by_their_own_ids() -> None:
    request = _mlserver_headers(SELDON_REQUEST, specversion="1.0") | {"Ce-Id": "a-1", "Ce-Requestid": "puid-9"}
    response = _mlserver_headers(SELDON_RESPONSE, specversion="1.0") | {"Ce-Id": "b-2", "Ce-Requestid": "puid-9"}
    first, second = parse_cloudevent(request, b"{}"), parse_cloudevent(response, b"{}")
    assert (first.id, second.id) == ("a-1", "b-2")
    assert first.join_key == second.join_key and first.join_id == "puid-9"
    assert (first.kind, second.kind) == ("request", "response")


def test_requestid_alone_identifies_a_seldon_event() -> None:
    headers = {k: v for k, v in _mlserver_headers(SELDON_RESPONSE).items() if k != "Ce-Id"}
    assert parse_cloudevent(headers, b"{}").join_id == "7f1c"
    headers = {k: v for k, v in headers.items() if k != "Ce-Requestid"}
    _rejected(400, "malformed", "missing the required attribute 'id'", parse_cloudevent, headers, b"{}")


def test_structured_specversion_03_with_base64_data() -> None:
    envelope = {
        "specversion": "0.3",
        "id": "r-3",
        "type": SELDON_RESPONSE,
        "source": "io.seldon.serving.deployment.mlserver",
        "modelid": "triage-sklearn",
        "datacontenttype": "application/json",
        "datacontentencoding": "base64",
        "data": base64.b64encode(b'{"outputs": []}').decode(),
    }
    ct = {"Content-Type": "application/cloudevents+json"}
    event = parse_cloudevent(ct, orjson.dumps(envelope))
    assert (event.kind, event.model, event.data) == ("response", "triage-sklearn", {"outputs": []})
    bad = orjson.dumps(envelope | {"data": None})
    _rejected(400, "malformed", "'data' must be a base64 string, got null", parse_cloudevent, ct, bad)
    other = orjson.dumps(envelope | {"datacontentencoding": "7bit"})
    _rejected(415, "malformed", "unsupported CloudEvent datacontentencoding '7bit'", parse_cloudevent, ct, other)


def test_unsupported_type_has_its_own_reason() -> None:
    event = parse_cloudevent(_mlserver_headers("io.seldon.serving.feedback"), b"{}")
    _rejected(400, "unsupported_type", SELDON_REQUEST, lambda: event.kind)


# routing


def test_routes_by_model_service_and_endpoint() -> None:
    routes = [
        _route(endpoint="canary", monitor="canary"),
        _route(),
        CloudEventRoute(model="triage-sklearn", monitor="seldon"),
        CloudEventRoute(inference_service="mlserver", model="other", monitor="other"),
    ]
    assert find_route(routes, _event(KSERVE_REQUEST, {}, endpoint="canary")) == 0
    assert find_route(routes, _event(KSERVE_REQUEST, {}, endpoint="default")) == 1
    mlserver = parse_cloudevent(_mlserver_headers(SELDON_REQUEST), b"{}")
    assert find_route(routes, mlserver) == 2
    other = parse_cloudevent(_mlserver_headers(SELDON_REQUEST) | {"Ce-Modelid": "other"}, b"{}")
    assert find_route(routes, other) == 3


def test_unrouted_event_names_what_it_carried_without_none() -> None:
    routes = [CloudEventRoute(model="triage-sklearn", monitor="triage")]
    message = _rejected(404, "unrouted", "no ingest.cloudevents route matches", find_route, routes, _event("t", {}))
    assert message == (
        "no ingest.cloudevents route matches this event (inferenceservicename 'triage-model', endpoint not set,"
        " modelid not set); routes: model 'triage-sklearn', endpoint any"
    )
    _rejected(404, "unrouted", "routes: none configured", find_route, [], _event("t", {}, inference_service=None))


# rows for a monitor


def test_single_v1_prediction_is_the_monitors_prediction_column() -> None:
    rows = event_rows(
        _event(KSERVE_RESPONSE, {"predictions": ["high"]}), _route(), "r", ["predicted_urgency"], FEATURES
    )
    assert rows.table.to_pylist() == [{"predicted_urgency": "high"}]
    assert rows.ignored_columns == () and rows.errors == ()
    nested = _event(KSERVE_RESPONSE, {"predictions": [[0.7], [0.1]]})
    assert event_rows(nested, _route(), "r", ["score"], ["score"]).table.column_names == ["score"]


def test_single_v2_output_tensor_is_the_prediction_column() -> None:
    data = {"outputs": [{"name": "predict", "shape": [2, 1], "datatype": "BYTES", "data": ["low", "high"]}]}
    rows = event_rows(_event(SELDON_RESPONSE, data), _route(), "r", ["predicted_urgency"], FEATURES)
    assert rows.table.to_pylist() == [{"predicted_urgency": "low"}, {"predicted_urgency": "high"}]


def test_outputs_named_like_the_prediction_column_keep_their_names() -> None:
    data = {"predictions": [{"predicted_urgency": "low", "proba": 0.9}]}
    rows = event_rows(_event(KSERVE_RESPONSE, data), _route(), "r", ["predicted_urgency"], FEATURES)
    assert rows.table.column_names == ["predicted_urgency", "proba"] and rows.ignored_columns == ("proba",)


def test_several_outputs_without_output_columns_are_422() -> None:
    data = {"predictions": [[0.1, 0.9]]}
    args = (_event(KSERVE_RESPONSE, data), _route(), "ingest.cloudevents[1]", ["predicted_urgency"], FEATURES)
    message = _rejected(422, "unmapped", "output_columns on ingest.cloudevents[1]", event_rows, *args)
    assert "2 output columns (output_0, output_1)" in message
    named = event_rows(args[0], _route(output_columns=["p_low", "predicted_urgency"]), *args[2:])
    assert named.table.to_pylist() == [{"p_low": 0.1, "predicted_urgency": 0.9}]


def test_positional_instances_need_input_columns() -> None:
    event = _event(KSERVE_REQUEST, {"instances": [[41, 80, 37.2]]})
    message = _rejected(
        422, "unmapped", "input_columns", event_rows, event, _route(), "ingest.cloudevents[0]", [], FEATURES
    )
    assert message.startswith("ingest.cloudevents[0] has no input_columns, but the request's 'instances' hold 3")
    route = _route(input_columns=["patient_age", "heart_rate", "temperature_c"])
    rows = event_rows(event, route, "r", [], FEATURES)
    assert rows.table.to_pylist() == [{"patient_age": 41, "heart_rate": 80, "temperature_c": 37.2}]


def test_wide_v2_tensor_needs_input_columns() -> None:
    event = _event(SELDON_REQUEST, V2_REQUEST)
    _rejected(
        422, "unmapped", "'inputs' hold 3 values per row without names", event_rows, event, _route(), "r", [], FEATURES
    )


def test_request_with_no_feature_column_is_422_not_an_all_null_row() -> None:
    data = {"inputs": [{"name": "input-0", "shape": [1], "datatype": "FP32", "data": [1.0]}]}
    message = _rejected(
        422, "unmapped", "monitor 'triage'", event_rows, _event(SELDON_REQUEST, data), _route(), "r", [], FEATURES
    )
    assert message.startswith("none of the request's columns (input-0) is a feature of monitor 'triage'")


def test_rows_carry_value_notes_and_ignored_columns() -> None:
    data = {"instances": [{"patient_age": 31, "request_id": "a"}, {"patient_age": "old", "request_id": "b"}]}
    rows = event_rows(_event(KSERVE_REQUEST, data), _route(), "r", [], FEATURES)
    assert rows.ignored_columns == ("request_id",)
    assert [(e.row, e.column) for e in rows.errors] == [(1, "patient_age")]


def test_event_error_reasons_are_closed() -> None:
    with pytest.raises(ValueError, match="reason must be one of"):
        EventError("x", reason="other")
    assert reject_reason(PayloadError("x")) == "malformed"


# rate-limited logging


def test_tensor_errors_never_print_python_none() -> None:
    for field in ("shape", "datatype"):
        tensor = {"name": "t", "shape": [1], "datatype": "FP32", "data": [1.0]} | {field: None}
        event = _event(SELDON_REQUEST, {"inputs": [tensor]})
        _rejected(400, "malformed", f"tensor 't': {field} must be", event_rows, event, _route(), "r", [], FEATURES)


# Seldon Core's own protocol (SeldonMessage)


def test_seldon_ndarray_named_by_names() -> None:
    data = {"data": {"names": ["patient_age", "heart_rate"], "ndarray": [[41, 80], [70, 120]]}, "meta": {}}
    rows = event_rows(_event(SELDON_REQUEST, data), _route(), "r", [], FEATURES)
    assert rows.table.to_pylist() == [{"patient_age": 41, "heart_rate": 80}, {"patient_age": 70, "heart_rate": 120}]
    # The message's own names win over the route's input_columns (meant for messages without names).
    renamed = event_rows(_event(SELDON_REQUEST, data), _route(input_columns=["x", "y"]), "r", [], FEATURES)
    assert renamed.table.column_names == ["patient_age", "heart_rate"]


def test_seldon_tensor_is_row_major_and_its_single_output_is_the_prediction() -> None:
    request = {"data": {"names": ["patient_age", "heart_rate"], "tensor": {"shape": [2, 2], "values": [1, 2, 3, 4]}}}
    rows = event_rows(_event(SELDON_REQUEST, request), _route(), "r", [], FEATURES)
    assert rows.table.column("heart_rate").to_pylist() == [2, 4]
    response = {"data": {"names": ["proba"], "ndarray": [[0.43], [0.9]]}}
    rows = event_rows(_event(SELDON_RESPONSE, response), _route(), "r", ["predicted_urgency"], FEATURES)
    assert rows.table.to_pylist() == [{"predicted_urgency": 0.43}, {"predicted_urgency": 0.9}]


def test_seldon_message_without_names_needs_input_columns() -> None:
    data = {"data": {"ndarray": [[41, 80, 37.2]]}}
    _rejected(
        422,
        "unmapped",
        "'data.ndarray' hold 3 values",
        event_rows,
        _event(SELDON_REQUEST, data),
        _route(),
        "r",
        [],
        FEATURES,
    )
    route = _route(input_columns=["patient_age", "heart_rate", "temperature_c"])
    assert event_rows(_event(SELDON_REQUEST, data), route, "r", [], FEATURES).table.num_columns == 3


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"names": ["a"], "ndarray": [[1, 2]]}, "'data.names' has 1 names but 'data.ndarray' has 2 columns"),
        ({"ndarray": [[1, 2], [1]]}, "data.ndarray[1] has 1 values but data.ndarray[0] has 2"),
        ({"tensor": {"shape": [2, 2], "values": [1, 2, 3]}}, "'data.tensor': shape [2, 2] needs 4 values but holds 3"),
        (
            {"tensor": {"shape": None, "values": []}},
            "'data.tensor.shape' must be an array of non-negative integers, got null",
        ),
        ({"strData": "hello"}, "a Seldon message needs 'data.ndarray' or 'data.tensor'"),
        ({"names": "a", "ndarray": []}, "'data.names' must be an array of non-empty strings, got a string"),
    ],
)
def test_bad_seldon_messages_are_400(message: dict, error: str) -> None:
    event = _event(SELDON_REQUEST, {"data": message})
    _rejected(400, "malformed", error, event_rows, event, _route(input_columns=[]), "r", [], FEATURES)
