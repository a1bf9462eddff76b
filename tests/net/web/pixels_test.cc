#include <gtest/gtest.h>

#include <cstring>

#include "net/web/pixels.h"
#include "net/web/render.h"
#include "test_files.h"

namespace strata::web {
namespace {

uint32_t Be32(const std::string& s, size_t at) {
  return (uint32_t(uint8_t(s[at])) << 24) | (uint32_t(uint8_t(s[at + 1])) << 16) | (uint32_t(uint8_t(s[at + 2])) << 8) |
         uint8_t(s[at + 3]);
}

TEST(PixelsTest, FramesOfANativeMultiFrame) {
  auto ff = testing::MakeImage(3, 4, 3);
  for (E_TransferSyntax xfer : {EXS_LittleEndianExplicit, EXS_LittleEndianImplicit, EXS_BigEndianExplicit}) {
    auto d = DecodeInstance(testing::ToPart10(*ff, xfer));
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    auto f2 = FrameBytes(d.value(), 2);
    ASSERT_TRUE(f2.ok()) << f2.status().ToString();
    ASSERT_EQ(f2->size(), 3u * 4 * 2);
    // pixel (frame 1 zero-based, row 0, col 1) = 1000 + 1, little endian
    EXPECT_EQ(uint8_t((*f2)[2]) | (uint8_t((*f2)[3]) << 8), 1001);
    EXPECT_TRUE(FrameBytes(d.value(), 4).status().IsNotFound());
  }
}

TEST(PixelsTest, ElementBytes) {
  auto ff = testing::MakeImage(2, 2, 1);
  auto d = DecodeInstance(testing::ToPart10(*ff, EXS_LittleEndianExplicit), false);
  ASSERT_TRUE(d.ok());
  auto px = ElementBytes(d.value(), 0x7FE00010);
  ASSERT_TRUE(px.ok());
  EXPECT_EQ(*px, std::string("\0\0\1\0\2\0\3\0", 8));
  EXPECT_TRUE(ElementBytes(d.value(), 0x00091010).status().IsNotFound());
}

TEST(RenderTest, PngAndJpegWithViewport) {
  auto ff = testing::MakeImage(48, 64, 2);
  auto d = DecodeInstance(testing::ToPart10(*ff, EXS_LittleEndianExplicit));
  ASSERT_TRUE(d.ok());
  RenderParams p;
  auto png = RenderFrame(d.value(), 1, p, "image/png");
  ASSERT_TRUE(png.ok()) << png.status().ToString();
  ASSERT_GT(png->size(), 33u);
  EXPECT_EQ(png->substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  EXPECT_EQ(Be32(*png, 16), 64u);  // IHDR width
  EXPECT_EQ(Be32(*png, 20), 48u);  // IHDR height
  p.viewport_w = p.viewport_h = 32;  // aspect kept: 32 x 24
  p.center = 500;
  p.width = 100;
  auto small = RenderFrame(d.value(), 2, p, "image/png");
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(Be32(*small, 16), 32u);
  EXPECT_EQ(Be32(*small, 20), 24u);
  auto jpeg = RenderFrame(d.value(), 1, p, "image/jpeg");
  ASSERT_TRUE(jpeg.ok());
  EXPECT_EQ(jpeg->substr(0, 3), std::string("\xFF\xD8\xFF", 3));
  EXPECT_TRUE(RenderFrame(d.value(), 3, p, "image/png").status().IsNotFound());
}

TEST(RenderTest, WindowChangesTheImage) {
  auto ff = testing::MakeImage(16, 16, 1);
  auto d = DecodeInstance(testing::ToPart10(*ff, EXS_LittleEndianExplicit));
  ASSERT_TRUE(d.ok());
  RenderParams a, b;
  b.center = 0;
  b.width = 10;  // almost everything above the window: white
  auto pa = RenderFrame(d.value(), 1, a, "image/png");
  auto pb = RenderFrame(d.value(), 1, b, "image/png");
  ASSERT_TRUE(pa.ok() && pb.ok());
  EXPECT_NE(*pa, *pb);
}

}  // namespace
}  // namespace strata::web
