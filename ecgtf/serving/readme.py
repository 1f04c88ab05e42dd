"""The ``README.md`` written inside each export: how to serve it and how to call it."""

from __future__ import annotations

#: Marks the README's gRPC request block, which ``tests/test_export.py`` runs.
GRPC_BLOCK = "<!-- grpc-request -->"


def export_readme(meta: dict, name: str, version: int, base_dir: str) -> str:
    """Markdown for an export of ``meta`` (:func:`ecgtf.serving.export.metadata`) served as ``name``."""
    leads = ", ".join(meta["lead_names"]) or f"{meta['n_leads']} lead(s), in the training data's order"
    classes = ", ".join(meta["class_names"])
    rate = meta["sampling_rate"]
    hop = meta["eval_hop_samples"]
    windows = (f"probabilities are averaged over {meta['window_samples']}-sample windows {hop} samples apart "
               "over each record's non-zero part (zero rows at the start and end are padding)" if hop else
               f"the centre {meta['window_samples']} samples are used (shorter records are zero-padded on both sides)")
    decisions = ("one-hot argmax" if meta["task_kind"] == "multiclass" else
                 f"`probability >= threshold`, thresholds {meta['thresholds'] or 0.5} tuned on validation data")
    if meta["signature"]["input"] == "image_bytes":
        per_lead = meta["input_kind"] == "lead_images"
        shape = f"`(batch, {meta['n_leads']})`, one image per lead" if per_lead else "`(batch,)`, one image per record"
        windows = (f"each image is decoded (RGB) and resized to {tuple(meta['input_options'].get('image_size', ()))} "
                   "pixels")
        input_text = (f"`serving_default` takes `image_bytes`: encoded PNG or JPEG printouts, string {shape}, "
                      f"as `scripts/render.py` draws them (options: {meta['input_options']}); leads: {leads}. "
                      f"Inside the graph: {windows}; then the run's network.")
        array = "images"
        dtype = "tf.string"
        array_doc = "`images`: a NumPy object array of encoded PNG/JPEG bytes"
        rest_doc = 'Each instance is one record: `{"b64": "<base64 PNG>"}`' + (" per lead" if per_lead else "")
    else:
        input_text = (f"`serving_default` takes `signal_mv`: float32 `(batch, samples, leads)`, the raw ECG in "
                      f"**{meta['units']}** at **{rate:g} Hz**, leads in this order: {leads}. Any number of "
                      "samples; records of different lengths go into one batch zero-padded at the end. A record "
                      "at another rate must be resampled first (`scripts/predict.py` does it). Inside the graph: "
                      f"{windows}; then the run's preprocessing and network.")
        array, dtype = "signal", "tf.float32"
        array_doc = "`signal`: a float32 NumPy array `(batch, samples, leads)` in mV"
        rest_doc = f"Each instance is one record, a list of samples, each a list of {meta['n_leads']} values in mV"
    return f"""# {name}, version {version}

SavedModel of ecgtf model `{meta['model']}` trained on `{meta['dataset']}` (task `{meta['task']}`,
{meta['task_kind']}), in TF Serving's layout `<base>/{name}/{version}/`.

## Input and outputs

{input_text}

Outputs: `probabilities` float32 `(batch, classes)` and `decisions` int32 `(batch, classes)`
({decisions}). Classes, in order: {classes}.

The `metadata` signature (no input) returns the same facts; `assets/metadata.json` holds them
as JSON.

## Serve

```
tensorflow_model_server --rest_api_port=8501 --port=8500 \\
    --model_name={name} --model_base_path=$(realpath {base_dir}/{name})
```

or with docker:

```
docker run --rm -p 8500:8500 -p 8501:8501 \\
    -v "$(realpath {base_dir}/{name})":/models/{name} -e MODEL_NAME={name} tensorflow/serving
```

## REST

`example_request.json` (beside this file) holds one made-up record in the row format:

```
curl -s -X POST http://localhost:8501/v1/models/{name}:predict -d @example_request.json
```

```json
{{"signature_name": "serving_default", "instances": [...]}}
```

{rest_doc}.
The answer, as in `example_response.json`:
`{{"predictions": [{{"probabilities": [...], "decisions": [...]}}]}}`. Offline, the same request
runs with `saved_model_cli run --dir . --tag_set serve --signature_def serving_default
--inputs {meta['signature']['input']}=example.npy` (the instances saved with `numpy.save`).

## gRPC

With `pip install tensorflow-serving-api` (needs only `grpcio` and `protobuf` next to TensorFlow).
Building the request ({array_doc}):

{GRPC_BLOCK}
```python
import tensorflow as tf
from tensorflow_serving.apis import predict_pb2

request = predict_pb2.PredictRequest()
request.model_spec.name = "{name}"
request.model_spec.signature_name = "serving_default"
request.inputs["{meta['signature']['input']}"].CopyFrom(tf.make_tensor_proto({array}, dtype={dtype}))
```

Sending it:

```python
import grpc
from tensorflow_serving.apis import prediction_service_pb2_grpc

stub = prediction_service_pb2_grpc.PredictionServiceStub(grpc.insecure_channel("localhost:8500"))
response = stub.Predict(request, timeout=10.0)
probabilities = tf.make_ndarray(response.outputs["probabilities"])
decisions = tf.make_ndarray(response.outputs["decisions"])
```
"""


def grpc_request_code(readme: str) -> str:
    """The Python block after :data:`GRPC_BLOCK` in an export's README."""
    block = readme.split(GRPC_BLOCK, 1)[1]
    return block.split("```python", 1)[1].split("```", 1)[0]
