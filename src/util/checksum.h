// Content checksums. XXH3-64 is used everywhere a stored byte range is verified on read:
// it runs at memory speed, so verifying every read costs nothing measurable.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace strata {

uint64_t Xxh3(std::string_view data);
// 16 lowercase hex digits.
std::string Xxh3Hex(std::string_view data);
std::string HexU64(uint64_t v);
// Parses 16 hex digits; false on bad input.
bool ParseHexU64(std::string_view hex, uint64_t* out);

// CRC-32 (the ZIP polynomial), incremental: pass the previous value to continue.
uint32_t Crc32(std::string_view data, uint32_t prev = 0);

// Streaming XXH3-64.
class Xxh3Stream {
 public:
  Xxh3Stream();
  ~Xxh3Stream();
  Xxh3Stream(const Xxh3Stream&) = delete;
  Xxh3Stream& operator=(const Xxh3Stream&) = delete;
  void Update(std::string_view data);
  uint64_t Digest() const;

 private:
  void* state_;
};

}  // namespace strata
