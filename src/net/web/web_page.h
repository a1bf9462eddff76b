// The web page at `/`: plain HTML/CSS/JS from src/net/web/assets, compiled into the binary
// (embed_assets.cmake turns the files into byte arrays at build time), so nothing is read
// from disk at run time. It uses QIDO-RS, WADO-RS (rendered/thumbnail/metadata) and /api/.
// The page's files hold no patient data, but when auth is on they too need an identity with
// the read role (the Router checks every route). A browser signs in once through the sign-in
// form (assets/signin.html, the body of the page's 401) and then sends its session cookie
// (session.h); with only Basic users configured it may also answer the Basic challenge itself.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace strata::web {

struct EmbeddedAsset {
  const char* name;  // file name under assets/, e.g. "app.js"
  const unsigned char* data;
  size_t size;
};
const std::vector<EmbeddedAsset>& EmbeddedAssets();

// True for the paths of the page's own files (not audited: no patient data).
bool IsPagePath(const std::string& path);

}  // namespace strata::web
