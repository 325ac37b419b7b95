"""KServe inference-logger CloudEvents: binary and structured mode, V1 and V2 bodies."""

from __future__ import annotations

import base64

import orjson
import pyarrow as pa
import pytest

from driftwatch.ingest.cloudevents import CloudEvent, parse_cloudevent
from driftwatch.ingest.inference import inference_table
from driftwatch.ingest.payloads import PayloadError

REQUEST = "org.kubeflow.serving.inference.request"
RESPONSE = "org.kubeflow.serving.inference.response"
IRIS = {"instances": [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]}


def _binary_headers(**overrides: str) -> dict[str, str]:
    """Headers as the KServe logger sends them (Go canonical case)."""
    headers = {
        "Ce-Id": "5a2c1f0e-7d9b-4a53-9b0a-2f1e4c6d8e10",
        "Ce-Specversion": "1.0",
        "Ce-Type": REQUEST,
        "Ce-Source": "http://localhost:9081/",
        "Ce-Inferenceservicename": "sklearn-iris",
        "Ce-Namespace": "default",
        "Ce-Component": "predictor",
        "Ce-Endpoint": "default",
        "Content-Type": "application/json",
    }
    headers.update(overrides)
    return headers


def _raises(status: int, message: str, func, *args) -> None:
    with pytest.raises(PayloadError) as info:
        func(*args)
    assert (info.value.status, str(info.value)) == (status, message)


# parse_cloudevent


def test_binary_mode_event() -> None:
    event = parse_cloudevent(_binary_headers(), orjson.dumps(IRIS))
    assert event == CloudEvent(
        id="5a2c1f0e-7d9b-4a53-9b0a-2f1e4c6d8e10",
        type=REQUEST,
        source="http://localhost:9081/",
        specversion="1.0",
        inference_service="sklearn-iris",
        endpoint="default",
        data=IRIS,
        namespace="default",
        component="predictor",
    )
    assert event.kind == "request"


def test_binary_mode_headers_are_case_insensitive_and_percent_decoded() -> None:
    headers = {k.upper(): v for k, v in _binary_headers(**{"Ce-Type": RESPONSE, "Ce-Endpoint": "can%C3%A1ry"}).items()}
    event = parse_cloudevent(headers, b'{"predictions": [1, 2]}')
    assert (event.kind, event.endpoint, event.data) == ("response", "canáry", {"predictions": [1, 2]})


def test_binary_mode_without_body_has_no_data() -> None:
    assert parse_cloudevent(_binary_headers(), b"").data is None


def test_binary_mode_without_extensions() -> None:
    headers = {k: v for k, v in _binary_headers().items() if k in ("Ce-Id", "Ce-Specversion", "Ce-Type", "Ce-Source")}
    event = parse_cloudevent(headers, b"{}")
    assert (event.inference_service, event.endpoint, event.namespace, event.data) == (None, None, None, {})


def test_missing_id_is_400() -> None:
    headers = {k: v for k, v in _binary_headers().items() if k != "Ce-Id"}
    _raises(400, "CloudEvent is missing the required attribute 'id'", parse_cloudevent, headers, b"{}")


def test_empty_source_is_400() -> None:
    msg = "CloudEvent is missing the required attribute 'source'"
    _raises(400, msg, parse_cloudevent, _binary_headers(**{"Ce-Source": ""}), b"{}")


def test_other_specversion_is_400() -> None:
    msg = "unsupported CloudEvents specversion '0.2' (expected 1.0 or 0.3)"
    _raises(400, msg, parse_cloudevent, _binary_headers(**{"Ce-Specversion": "0.2"}), b"{}")


def test_plain_post_is_not_a_cloudevent() -> None:
    msg = "not a CloudEvent: no ce-* headers and Content-Type is not application/cloudevents+json"
    _raises(400, msg, parse_cloudevent, {"Content-Type": "application/json"}, b"{}")


def test_binary_mode_non_json_data_is_415() -> None:
    msg = "CloudEvent data must be JSON, got 'application/octet-stream'"
    _raises(415, msg, parse_cloudevent, _binary_headers(**{"Content-Type": "application/octet-stream"}), b"\x00")


def test_binary_mode_malformed_data_is_400() -> None:
    msg = "CloudEvent data: malformed JSON: unexpected end of data: line 1 column 2 (char 1)"
    _raises(400, msg, parse_cloudevent, _binary_headers(), b"{")


def test_structured_mode_event() -> None:
    envelope = {
        "specversion": "1.0",
        "id": "req-1",
        "type": RESPONSE,
        "source": "http://localhost:9081/",
        "inferenceservicename": "iris",
        "endpoint": "canary",
        "datacontenttype": "application/json",
        "data": {"predictions": [0, 1]},
    }
    headers = {"content-type": "application/cloudevents+json; charset=utf-8"}
    event = parse_cloudevent(headers, orjson.dumps(envelope))
    assert (event.id, event.kind, event.inference_service, event.endpoint) == ("req-1", "response", "iris", "canary")
    assert event.data == {"predictions": [0, 1]}


def test_structured_mode_data_base64() -> None:
    envelope = {
        "specversion": "1.0",
        "id": "req-2",
        "type": REQUEST,
        "source": "s",
        "data_base64": base64.b64encode(orjson.dumps(IRIS)).decode(),
    }
    event = parse_cloudevent({"Content-Type": "application/cloudevents+json"}, orjson.dumps(envelope))
    assert event.data == IRIS


def test_structured_mode_errors() -> None:
    ct = {"Content-Type": "application/cloudevents+json"}
    base = {"specversion": "1.0", "id": "x", "type": REQUEST, "source": "s"}
    _raises(
        400, "CloudEvent: malformed JSON: unexpected end of data: line 1 column 2 (char 1)", parse_cloudevent, ct, b"{"
    )
    _raises(400, "a structured CloudEvent must be a JSON object, got an array", parse_cloudevent, ct, b"[]")
    missing = orjson.dumps({k: v for k, v in base.items() if k != "id"})
    _raises(400, "CloudEvent is missing the required attribute 'id'", parse_cloudevent, ct, missing)
    numeric_id = orjson.dumps({**base, "id": 7})
    _raises(400, "CloudEvent attribute 'id' must be a string, got a number", parse_cloudevent, ct, numeric_id)
    both = orjson.dumps({**base, "data": {}, "data_base64": "e30="})
    _raises(400, "a CloudEvent may hold 'data' or 'data_base64', not both", parse_cloudevent, ct, both)
    text = orjson.dumps({**base, "datacontenttype": "text/plain", "data": "hi"})
    _raises(415, "CloudEvent data must be JSON, got 'text/plain'", parse_cloudevent, ct, text)
    bad64 = orjson.dumps({**base, "data_base64": "%%%"})
    with pytest.raises(PayloadError, match=r"^CloudEvent 'data_base64' is not valid base64: "):
        parse_cloudevent(ct, bad64)


def test_batch_mode_is_415() -> None:
    msg = "batched CloudEvents are not supported; send one event per request"
    _raises(415, msg, parse_cloudevent, {"Content-Type": "application/cloudevents-batch+json"}, b"[]")


def test_unknown_event_type_lists_the_valid_ones() -> None:
    event = parse_cloudevent(_binary_headers(**{"Ce-Type": "com.example.other"}), b"{}")
    valid = f"{REQUEST}, {RESPONSE}, io.seldon.serving.inference.request, io.seldon.serving.inference.response"
    msg = f"unsupported CloudEvent type 'com.example.other' (valid: {valid})"
    with pytest.raises(PayloadError) as info:
        _ = event.kind
    assert (info.value.status, str(info.value)) == (400, msg)


# inference_table: V1


def test_v1_dict_instances() -> None:
    data = {"instances": [{"age": 31, "city": "Oslo"}, {"age": 45, "city": "Lima"}]}
    table = inference_table(data, "request", [])
    assert table.to_pylist() == data["instances"]


def test_v1_dict_instances_with_mixed_types_keep_rows() -> None:
    table = inference_table({"instances": [{"age": 31}, {"age": "old"}]}, "request", [])
    assert table.column("age").to_pylist() == ["31", "old"]


def test_v1_list_instances_are_positional() -> None:
    table = inference_table(IRIS, "request", [])
    assert table.column_names == ["input_0", "input_1", "input_2", "input_3"]
    assert table.column("input_2").to_pylist() == [4.8, 4.5]


def test_v1_list_instances_named_by_columns() -> None:
    names = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
    table = inference_table(IRIS, "request", names)
    assert table.column_names == names
    assert table.column("petal_width").to_pylist() == [1.4, 1.6]


def test_v1_wrong_number_of_columns_is_400() -> None:
    msg = "2 names are configured in input_columns but 'instances' has 4 positional columns"
    _raises(400, msg, inference_table, IRIS, "request", ["a", "b"])


def test_v1_ragged_instances_are_400() -> None:
    msg = "instances[1] has 2 values but instances[0] has 3"
    _raises(400, msg, inference_table, {"instances": [[1, 2, 3], [1, 2]]}, "request", [])


def test_v1_mixed_item_shapes_are_400() -> None:
    msg = "instances[1] is an array but instances[0] is an object"
    _raises(400, msg, inference_table, {"instances": [{"a": 1}, [1]]}, "request", [])


def test_v1_scalar_predictions() -> None:
    assert inference_table({"predictions": [1, 0, 2]}, "response", []).to_pylist() == [
        {"prediction": 1},
        {"prediction": 0},
        {"prediction": 2},
    ]
    assert inference_table({"predictions": ["setosa"]}, "response", ["species"]).column_names == ["species"]


def test_v1_list_predictions_are_output_columns() -> None:
    table = inference_table({"predictions": [[0.1, 0.9], [0.8, 0.2]]}, "response", [])
    assert table.to_pylist() == [{"output_0": 0.1, "output_1": 0.9}, {"output_0": 0.8, "output_1": 0.2}]


def test_v1_empty_instances() -> None:
    table = inference_table({"instances": []}, "request", [])
    assert (table.num_rows, table.num_columns) == (0, 0)


def test_unknown_body_shape_is_400() -> None:
    hint = (
        "expected 'instances' or 'inputs' (request) / 'predictions' or 'outputs' (response),"
        " or a Seldon message {'data': {'ndarray' or 'tensor'}}"
    )
    _raises(400, f"{hint}; got keys data, model", inference_table, {"data": [], "model": "m"}, "request", [])
    _raises(400, f"{hint}; got keys instances", inference_table, {"instances": []}, "response", [])
    _raises(400, f"{hint}; got null", inference_table, None, "request", [])


# inference_table: V2


def _tensor(name: str, shape: list[int], datatype: str, data: list) -> dict:
    return {"name": name, "shape": shape, "datatype": datatype, "data": data}


def test_v2_tensor_of_shape_n_and_n_by_1() -> None:
    data = {
        "id": "r1",
        "parameters": {"content_type": "np"},
        "inputs": [_tensor("age", [3], "INT64", [31, 45, 27]), _tensor("score", [3, 1], "FP64", [0.5, 0.25, 1])],
    }
    table = inference_table(data, "request", [])
    assert table.schema == pa.schema([("age", pa.int64()), ("score", pa.float64())])
    assert table.to_pylist() == [
        {"age": 31, "score": 0.5},
        {"age": 45, "score": 0.25},
        {"age": 27, "score": 1.0},
    ]


def test_v2_wide_tensor_is_split_row_major() -> None:
    data = {"inputs": [_tensor("input-0", [2, 3], "FP32", [1, 2, 3, 4, 5, 6])]}
    table = inference_table(data, "request", [])
    assert table.column_names == ["input-0_0", "input-0_1", "input-0_2"]
    assert table.schema.field("input-0_0").type == pa.float32()
    assert table.to_pylist() == [
        {"input-0_0": 1.0, "input-0_1": 2.0, "input-0_2": 3.0},
        {"input-0_0": 4.0, "input-0_1": 5.0, "input-0_2": 6.0},
    ]


def test_v2_columns_name_wide_tensors_in_order() -> None:
    data = {
        "inputs": [
            _tensor("a", [2, 2], "INT32", [1, 2, 3, 4]),
            _tensor("b", [2], "BOOL", [True, False]),
            _tensor("c", [2, 3], "FP64", [0.1, 0.2, 0.3, 0.4, 0.5, 0.6]),
        ]
    }
    table = inference_table(data, "request", ["w", "x", "p", "q", "r"])
    assert table.column_names == ["w", "x", "b", "p", "q", "r"]
    assert table.column("x").to_pylist() == [2, 4]
    assert table.column("r").to_pylist() == [0.3, 0.6]
    assert table.schema.field("b").type == pa.bool_()


def test_v2_nested_data_is_flattened() -> None:
    data = {"inputs": [_tensor("x", [2, 3], "FP32", [[1, 2, 3], [4, 5, 6]])]}
    assert inference_table(data, "request", ["a", "b", "c"]).column("c").to_pylist() == [3.0, 6.0]


def test_v2_bytes_are_strings() -> None:
    data = {
        "inputs": [
            _tensor("text", [3], "BYTES", ["good movie", ["not", "bad"], None]),
        ]
    }
    table = inference_table(data, "request", [])
    assert table.schema.field("text").type == pa.string()
    assert table.column("text").to_pylist() == ["good movie", "not bad", None]


def test_v2_outputs() -> None:
    data = {"model_name": "iris", "outputs": [_tensor("output-0", [2], "INT64", [1, 2])]}
    assert inference_table(data, "response", []).to_pylist() == [{"output-0": 1}, {"output-0": 2}]


def test_v2_shape_mismatch_names_the_tensor() -> None:
    data = {"inputs": [_tensor("pixels", [2, 3], "FP32", [1, 2, 3, 4, 5])]}
    _raises(400, "tensor 'pixels': shape [2, 3] needs 6 values but data holds 5", inference_table, data, "request", [])


def test_v2_row_count_mismatch_between_tensors() -> None:
    data = {"inputs": [_tensor("a", [2], "FP32", [1, 2]), _tensor("b", [3], "FP32", [1, 2, 3])]}
    _raises(400, "tensor 'b' has 3 rows but tensor 'a' has 2", inference_table, data, "request", [])


def test_v2_data_that_does_not_fit_the_datatype_is_400() -> None:
    data = {"inputs": [_tensor("n", [2], "INT64", [1, 1.5])]}
    _raises(
        400,
        "tensor 'n': data does not fit INT64: Float value 1.500000 was truncated converting to int64",
        inference_table,
        data,
        "request",
        [],
    )
    data = {"inputs": [_tensor("n", [1], "UINT8", [300])]}
    with pytest.raises(PayloadError, match=r"^tensor 'n': data does not fit UINT8: "):
        inference_table(data, "request", [])
    data = {"inputs": [_tensor("n", [1], "FP32", ["1.5"])]}
    _raises(400, "tensor 'n': FP32 data holds a string", inference_table, data, "request", [])
    data = {"inputs": [_tensor("t", [1], "BYTES", [5])]}
    _raises(400, "tensor 't': BYTES element 0 is a number, expected a string", inference_table, data, "request", [])


def test_v2_fp16_and_unsigned() -> None:
    data = {"inputs": [_tensor("h", [2], "FP16", [0.5, 1.5]), _tensor("u", [2], "UINT8", [0, 255])]}
    table = inference_table(data, "request", [])
    assert table.schema == pa.schema([("h", pa.float16()), ("u", pa.uint8())])
    assert table.column("u").to_pylist() == [0, 255]


def test_v2_malformed_tensors() -> None:
    _raises(
        400,
        "inputs[0] is missing 'datatype'",
        inference_table,
        {"inputs": [{"name": "a", "shape": [1], "data": [1]}]},
        "request",
        [],
    )
    msg = (
        "tensor 'a': unsupported datatype 'FP8' (valid: BOOL, INT8, INT16, INT32, INT64, UINT8, UINT16, UINT32, "
        "UINT64, FP16, FP32, FP64, BYTES)"
    )
    _raises(400, msg, inference_table, {"inputs": [_tensor("a", [1], "FP8", [1])]}, "request", [])
    msg = "tensor 'a': shape must be an array of non-negative integers, got [-1]"
    _raises(400, msg, inference_table, {"inputs": [_tensor("a", [-1], "FP32", [])]}, "request", [])
    _raises(400, "'inputs' must be an array of tensors, got an object", inference_table, {"inputs": {}}, "request", [])


def test_v2_wrong_number_of_columns_is_400() -> None:
    data = {"inputs": [_tensor("a", [1, 2], "FP32", [1, 2]), _tensor("b", [1], "FP32", [3])]}
    msg = (
        "4 names are configured in input_columns but the tensors in 'inputs' have 2 positional columns "
        "and 3 columns in all (name either the positional ones, or every column in order)"
    )
    _raises(400, msg, inference_table, data, "request", ["w", "x", "y", "z"])


def test_v2_names_for_every_column_rename_single_tensors_too() -> None:
    data = {"outputs": [_tensor("urgency", [2], "FP32", [1, 2])]}
    table = inference_table(data, "response", ["predicted_urgency"])
    assert table.column_names == ["predicted_urgency"]
    data = {"inputs": [_tensor("a", [1, 2], "FP32", [1, 2]), _tensor("b", [1], "FP32", [3])]}
    assert inference_table(data, "request", ["x", "y", "z"]).column_names == ["x", "y", "z"]
    assert inference_table(data, "request", ["x", "y"]).column_names == ["x", "y", "b"]


def test_v2_duplicate_column_names_are_400() -> None:
    data = {"inputs": [_tensor("a", [1], "FP32", [1]), _tensor("a", [1], "FP32", [2])]}
    _raises(400, "'inputs' would give several columns the name a", inference_table, data, "request", [])
