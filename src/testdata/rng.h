// Deterministic randomness for generated test data.
// Every random value the generators use is a pure function of a key (a tuple of integers such
// as seed, patient, study, series, slice): no global state, no std::random_device, no
// implementation-defined distributions, so the same key gives the same bits on every run,
// thread count and standard library.
#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <string_view>

namespace strata::testdata {

// SplitMix64 finaliser: a bijective 64-bit mix with good avalanche.
constexpr uint64_t Mix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

// Hash of an ordered tuple of integers (order matters: {1,2} != {2,1}).
constexpr uint64_t HashKey(std::initializer_list<uint64_t> parts) {
  uint64_t h = 0x5354524154414745ull;  // "STRATAGE"
  for (uint64_t p : parts) h = Mix64(h ^ Mix64(p + 0x632BE59BD9B4E019ull));
  return h;
}

// Hash of bytes (FNV-1a folded through Mix64); used to key things by name or path.
constexpr uint64_t HashBytes(std::string_view s) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
  return Mix64(h);
}

// xoshiro256** seeded from a key. Small, fast, and fully specified.
class Rng {
 public:
  explicit Rng(uint64_t key) {
    uint64_t x = key;
    for (auto& w : s_) {
      x += 0x9E3779B97F4A7C15ull;
      uint64_t z = x;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
      w = z ^ (z >> 31);
    }
  }
  Rng(std::initializer_list<uint64_t> key) : Rng(HashKey(key)) {}

  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, 1) with 53 bits.
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [lo, hi] (inclusive); the tiny modulo bias is irrelevant here.
  int64_t Int(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Next() % static_cast<uint64_t>(hi - lo + 1));
  }
  bool Chance(double p) { return Uniform() < p; }
  // Standard normal (Box-Muller, one value per call; exact enough for shapes and fields).
  double Normal() {
    double u1 = Uniform();
    double u2 = Uniform();
    if (u1 < 1e-300) u1 = 1e-300;
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }
  // Fast approximately-normal value (Irwin-Hall sum of four 16-bit uniforms, rescaled to unit
  // variance): one generator step per value, tails bounded at about +-3.5 sigma. Used for
  // image noise, where millions of values per image are needed.
  float FastNormal() {
    uint64_t r = Next();
    uint32_t sum = static_cast<uint32_t>(r & 0xFFFF) + static_cast<uint32_t>((r >> 16) & 0xFFFF) +
                   static_cast<uint32_t>((r >> 32) & 0xFFFF) + static_cast<uint32_t>(r >> 48);
    // Mean 2*65535, variance 4 * (65536^2 - 1) / 12.
    constexpr float kScale = 1.7320508f / 65536.0f;  // sqrt(3) / 65536
    return (static_cast<float>(sum) - 131070.0f) * kScale;
  }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace strata::testdata
