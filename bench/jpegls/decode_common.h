// Shared by the two JPEG-LS decoder probes (bench/jpegls-decoders.sh): reads DIR/N.jls
// codestreams and their DIR/N.raw native frames, decodes every codestream REPS times with the
// probe's decoder, checks each result against the raw frame, and prints one line:
//   <name> frames=N MB=... cpu_MBps=... wall_MBps=... equal=1
// MB = 10^6 bytes of native pixels. Each probe is its own process because DCMTK's libdcmtkcharls
// and Debian's libcharls.so.2 both export JpegLsDecode (one process can hold only one).
#pragma once
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

namespace probe {

inline std::vector<uint8_t> ReadAll(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  return std::vector<uint8_t>((std::istreambuf_iterator<char>(f)), {});
}

inline double CpuSeconds() {
  timespec t;
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
  return t.tv_sec + t.tv_nsec * 1e-9;
}

// DECODE(codestream, out) returns true on success.
template <typename Decode>
int Run(const char* name, int argc, char** argv, Decode decode) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s DIR FRAMES REPS\n", argv[0]);
    return 2;
  }
  const std::string dir = argv[1];
  const int frames = std::atoi(argv[2]), reps = std::atoi(argv[3]);
  std::vector<std::vector<uint8_t>> coded, raw;
  for (int i = 0; i < frames; ++i) {
    coded.push_back(ReadAll(dir + "/" + std::to_string(i) + ".jls"));
    raw.push_back(ReadAll(dir + "/" + std::to_string(i) + ".raw"));
    if (coded.back().empty() || raw.back().empty()) {
      std::fprintf(stderr, "%s: frame %d missing in %s\n", name, i, dir.c_str());
      return 2;
    }
  }
  std::vector<uint8_t> out;
  double bytes = 0;
  bool equal = true;
  const double c0 = CpuSeconds();
  const auto w0 = std::chrono::steady_clock::now();
  for (int r = 0; r < reps; ++r) {
    for (int i = 0; i < frames; ++i) {
      out.assign(raw[i].size(), 0);
      if (!decode(coded[i], out)) {
        std::fprintf(stderr, "%s: frame %d did not decode\n", name, i);
        return 1;
      }
      equal = equal && out == raw[i];
      bytes += raw[i].size();
    }
  }
  const double cpu = CpuSeconds() - c0;
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
  std::printf("%s frames=%d MB=%.1f cpu_MBps=%.1f wall_MBps=%.1f equal=%d\n", name, frames * reps, bytes / 1e6,
              bytes / 1e6 / cpu, bytes / 1e6 / wall, equal ? 1 : 0);
  return equal ? 0 : 1;
}

}  // namespace probe
