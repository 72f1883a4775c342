"""Writes the seed inputs of the two fuzz targets into seeds/ (run from fuzz/)."""
import json, os, struct

def safetensors(tensors, metadata):
    header, data = {}, b""
    for name, dtype, shape, values in tensors:
        fmt = "<%d%s" % (len(values), "f" if dtype == "F32" else "d")
        raw = struct.pack(fmt, *values)
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    if metadata:
        header["__metadata__"] = metadata
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data

def arch(dtype, width, layers):
    return json.dumps({"class_name": "Sequential", "dtype": dtype, "input_width": width, "layers": [
        {"name": n, "units": u, "activation": a, "use_bias": b,
         "kernel_initializer": {"name": "glorot_uniform"}, "bias_initializer": {"name": "zeros"}}
        for n, u, a, b in layers]})

os.makedirs("seeds/load_model", exist_ok=True)
os.makedirs("seeds/parse_csv", exist_ok=True)
two = [("dense", 3, "relu", True), ("dense_1", 1, "sigmoid", False)]
model = [("dense/kernel", "F32", [2, 3], [0.5, -0.25, 1.0, 2.0, 0.0, -1.5]), ("dense/bias", "F32", [3], [0.1, 0.2, 0.3]),
         ("dense_1/kernel", "F32", [3, 1], [1.0, -1.0, 0.5])]
meta = {"tapegrad.architecture": arch("F32", 2, two), "tapegrad.format": "1", "loss": "binary_crossentropy"}
with open("seeds/load_model/model_f32.safetensors", "wb") as f:
    f.write(safetensors(model, meta))
ck = dict(meta)
ck["tapegrad.checkpoint"] = json.dumps({"epoch": 2, "optimizer": "sgd", "learning_rate": 0.01, "iterations": 4})
state = [("optimizer/momentum/dense/kernel", "F32", [2, 3], [0.0] * 6)]
with open("seeds/load_model/checkpoint_f32.safetensors", "wb") as f:
    f.write(safetensors(model + state, ck))
one = [("dense", 2, "softmax", True)]
with open("seeds/load_model/model_f64.safetensors", "wb") as f:
    f.write(safetensors([("dense/kernel", "F64", [1, 2], [1.0, 2.0]), ("dense/bias", "F64", [2], [0.0, 0.0])],
                        {"tapegrad.architecture": arch("F64", 1, one)}))
with open("seeds/load_model/plain.safetensors", "wb") as f:
    f.write(safetensors([("w", "F32", [2], [1.0, 2.0])], {}))
csvs = {
    "simple.csv": "a,b,y\n1,2,0\n3.5,-4e2,1\n",
    "quoted.csv": "\ufeff\"a\", \"b\" ,label,y\n \"1\",2,cat,1\n\n5,6,dog,0\n",
    "ragged.csv": "a,b,y\n1,2\n",
    "text.csv": "a,b,y\nnan,inf,x\n",
}
for name, text in csvs.items():
    with open("seeds/parse_csv/" + name, "w", encoding="utf-8") as f:
        f.write(text)
