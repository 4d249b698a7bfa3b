# Source this (`source scripts/torch-env.sh`) before building or running with `--features torch`.
# Points tch's build script at the libtorch that scripts/setup-torch.sh assembled; the binaries
# carry no rpath, so LD_LIBRARY_PATH must name its lib/ at run time too.
_sim2real_libtorch=${SIM2REAL_CACHE:-$HOME/.cache/sim2real}/libtorch-2.13.0
if [ ! -f "$_sim2real_libtorch/.sim2real-complete" ]; then
  echo "torch-env: no libtorch at $_sim2real_libtorch; run scripts/setup-torch.sh first" >&2
fi
export LIBTORCH=$_sim2real_libtorch
# The PyPI wheels are built with the C++11 ABI.
export LIBTORCH_CXX11_ABI=1
export LD_LIBRARY_PATH=$_sim2real_libtorch/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
# Otherwise torch-sys would ask a Python for its torch instead of using LIBTORCH.
unset LIBTORCH_USE_PYTORCH
unset _sim2real_libtorch
