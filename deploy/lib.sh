# Shared helpers of the deploy scripts (sourced, not run).

# ensure_tools CMD:PACKAGE ... — apt-get install the packages whose command is missing.
ensure_tools() {
  local sudo="" need=() pair
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  for pair in "$@"; do
    command -v "${pair%%:*}" >/dev/null 2>&1 || need+=("${pair#*:}")
  done
  if [ ${#need[@]} -gt 0 ]; then
    echo "installing: ${need[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}"
  fi
}
