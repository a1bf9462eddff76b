// The JPEG-LS decoder DCMTK 3.6.7's dcmjpls uses (its bundled CharLS 1.x fork, Debian's
// libdcmtkcharls.so.17), called the way dcmjpls calls it: JpegLsDecode. See decode_common.h.
#include "decode_common.h"

// From DCMTK's bundled charls/interface.h; a null JlsParameters* means "read it from the stream".
extern "C" int JpegLsDecode(void* destination, size_t destination_length, const void* source, size_t source_length,
                            void* parameters);

int main(int argc, char** argv) {
  return probe::Run("dcmtk-charls", argc, argv, [](const std::vector<uint8_t>& coded, std::vector<uint8_t>& out) {
    return JpegLsDecode(out.data(), out.size(), coded.data(), coded.size(), nullptr) == 0;
  });
}
