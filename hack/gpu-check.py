"""Checks, on a machine with an NVIDIA GPU, the two GPU pieces of a kubricks GPU image for real:
the CUDA runtime library it ships talks to the driver and sees the GPUs, and Spark's GPU discovery
script reports the same GPUs as valid JSON.

usage: python3 hack/gpu-check.py CUDA_LIB_DIR DISCOVERY_SCRIPT
  CUDA_LIB_DIR      a directory holding libcudart.so.12, copied out of the image's /usr/local/cuda/lib64
  DISCOVERY_SCRIPT  images/spark/gpu-discovery.sh (the image's /opt/kubricks/bin/gpu-discovery)
"""

import ctypes
import json
import subprocess
import sys
from pathlib import Path

COMPUTE_CAPABILITY_MAJOR, COMPUTE_CAPABILITY_MINOR = 75, 76


def cuda_facts(library: Path) -> dict[str, object]:
    cudart = ctypes.CDLL(str(library))
    runtime, driver, count = ctypes.c_int(), ctypes.c_int(), ctypes.c_int()
    for call, out in (("cudaRuntimeGetVersion", runtime), ("cudaDriverGetVersion", driver)):
        status = getattr(cudart, call)(ctypes.byref(out))
        if status != 0:
            raise SystemExit(f"{call} failed with CUDA error {status}")
    status = cudart.cudaGetDeviceCount(ctypes.byref(count))
    if status != 0:
        raise SystemExit(f"cudaGetDeviceCount failed with CUDA error {status}")
    capabilities = []
    for device in range(count.value):
        major, minor = ctypes.c_int(), ctypes.c_int()
        cudart.cudaDeviceGetAttribute(ctypes.byref(major), COMPUTE_CAPABILITY_MAJOR, device)
        cudart.cudaDeviceGetAttribute(ctypes.byref(minor), COMPUTE_CAPABILITY_MINOR, device)
        capabilities.append(f"{major.value}.{minor.value}")
    return {"runtime": runtime.value, "driver": driver.value, "devices": count.value, "capabilities": capabilities}


def main() -> None:
    lib_dir, script = Path(sys.argv[1]), Path(sys.argv[2])
    facts = cuda_facts(lib_dir / "libcudart.so.12")
    print(f"CUDA runtime {facts['runtime']}, driver API {facts['driver']}, {facts['devices']} device(s), "
          f"compute capability {', '.join(facts['capabilities'])}")
    output = subprocess.run(["bash", str(script)], capture_output=True, text=True, check=True).stdout
    discovered = json.loads(output)
    print(f"discovery script: {output.strip()}")
    expected = [str(index) for index in range(int(facts["devices"]))]  # type: ignore[call-overload]
    if discovered != {"name": "gpu", "addresses": expected}:
        raise SystemExit(f"the discovery script reported {discovered}, CUDA sees addresses {expected}")
    print("PASS: the image's CUDA runtime sees the GPUs the discovery script reports")


if __name__ == "__main__":
    main()
