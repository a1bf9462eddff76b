#include "transfer/node_address.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(NodeAddress, ParsesHostAndPort) {
  auto n = ParseNodeAddress("pacs.example.org:104");
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_EQ(n->host, "pacs.example.org");
  EXPECT_EQ(n->port, 104);
  EXPECT_EQ(n->ToString(), "pacs.example.org:104");
}

TEST(NodeAddress, RejectsMalformedEntries) {
  for (const char* bad : {"", "host", "host:", ":104", "host:0", "host:65536", "host:12x", "host:-1", "a b:1"}) {
    auto n = ParseNodeAddress(bad);
    EXPECT_FALSE(n.ok()) << bad;
    if (!n.ok()) {
      EXPECT_EQ(n.status().code(), Status::Code::kInvalidArgument) << bad;
    }
  }
}

TEST(NodeAddress, ListsFromCommasAndRepeatedFlags) {
  auto l = ParseNodeList({"10.0.0.1:11112,10.0.0.2:11113", "10.0.0.3:4242"});
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  ASSERT_EQ(l->size(), 3u);
  EXPECT_EQ((*l)[0], (NodeAddress{"10.0.0.1", 11112}));
  EXPECT_EQ((*l)[1], (NodeAddress{"10.0.0.2", 11113}));
  EXPECT_EQ((*l)[2], (NodeAddress{"10.0.0.3", 4242}));
  EXPECT_FALSE(ParseNodeList({"a:1,,b:2"}).ok());
  EXPECT_FALSE(ParseNodeList({"a:1,"}).ok());
  EXPECT_FALSE(ParseNodeList({}).ok());
  EXPECT_FALSE(ParseNodeList({"a:1,b"}).ok());
}

}  // namespace
}  // namespace strata
