// ParallelSender against an in-process SCP that answers as scripted.
#include "transfer/parallel_sender.h"

#include <gtest/gtest.h>

#include <set>

#include "transfer/dicom_file_scan.h"
#include "transfer/fake_store_scp.h"
#include "transfer/test_files.h"

namespace strata {
namespace {

using testing::FakeStoreScp;
using testing::MakeTempDir;
using testing::WriteTestFile;
using Answer = FakeStoreScp::Answer;

constexpr const char* kExplicit = "1.2.840.10008.1.2.1";
constexpr const char* kImplicit = "1.2.840.10008.1.2";
constexpr const char* kJpegLs = "1.2.840.10008.1.2.4.80";

std::string Sop(int i) { return "1.2.826.0.1.3680043.10.1337.98." + std::to_string(i); }

// N files, every third implicit and every fifth JPEG-LS (the rest explicit).
std::vector<DicomFileInfo> MakeFiles(const std::string& dir, int n) {
  for (int i = 1; i <= n; ++i) {
    const char* ts = i % 5 == 0 ? kJpegLs : i % 3 == 0 ? kImplicit : kExplicit;
    WriteTestFile(dir + "/" + std::to_string(1000 + i) + ".dcm", {.sop_uid = Sop(i), .syntax = ts});
  }
  auto scan = ScanForDicomFiles({dir});
  EXPECT_TRUE(scan.ok());
  EXPECT_EQ(scan->files.size(), static_cast<size_t>(n));
  return scan->files;
}

SendOptions Options(std::vector<std::string> nodes, int parallel) {
  SendOptions o;
  o.nodes = ParseNodeList(nodes).value();
  o.parallel = parallel;
  o.timeout_s = 10;
  return o;
}

TEST(ParallelSender, EveryFileStoredOnceInItsOwnSyntax) {
  auto files = MakeFiles(MakeTempDir("f"), 30);
  FakeStoreScp scp;
  auto r = SendFiles(files, Options({scp.address()}, 3), nullptr);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(r->stored, 30u);
  EXPECT_TRUE(r->failures.empty());
  EXPECT_EQ(r->retries, 0u);
  uint64_t bytes = 0;
  for (const auto& f : files) bytes += f.size;
  EXPECT_EQ(r->bytes, bytes);
  auto by_sop = scp.attempts_by_sop();
  EXPECT_EQ(by_sop.size(), 30u);
  for (const auto& [sop, n] : by_sop) EXPECT_EQ(n, 1) << sop;
  for (const auto& a : scp.attempts()) {
    const int i = std::stoi(a.sop_uid.substr(a.sop_uid.rfind('.') + 1));
    const char* want = i % 5 == 0 ? kJpegLs : i % 3 == 0 ? kImplicit : kExplicit;
    EXPECT_EQ(a.transfer_syntax, want) << a.sop_uid;
  }
}

TEST(ParallelSender, FailureStatusIsRetriedThenListed) {
  auto files = MakeFiles(MakeTempDir("f"), 6);
  FakeStoreScp scp;
  scp.Script(Sop(2), {{Answer::kStatus, 0xA700}, {Answer::kStatus, 0x0000}});  // once out of resources
  scp.Script(Sop(4), {{Answer::kStatus, 0xC001}});                              // always refused
  scp.Script(Sop(5), {{Answer::kStatus, 0xB000}});                              // warning = stored
  auto opt = Options({scp.address()}, 2);
  opt.retries = 2;
  auto r = SendFiles(files, opt, nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stored, 5u);
  EXPECT_EQ(r->warnings, 1u);
  ASSERT_EQ(r->failures.size(), 1u);
  EXPECT_EQ(r->failures[0].sop_instance_uid, Sop(4));
  EXPECT_NE(r->failures[0].reason.find("0xC001"), std::string::npos) << r->failures[0].reason;
  auto by_sop = scp.attempts_by_sop();
  EXPECT_EQ(by_sop[Sop(2)], 2);
  EXPECT_EQ(by_sop[Sop(4)], 3);  // first attempt + 2 retries
  EXPECT_EQ(by_sop[Sop(1)], 1);
  EXPECT_EQ(r->retries, 3u);
}

TEST(ParallelSender, AbortedAssociationIsReplacedAndTheFileResent) {
  auto files = MakeFiles(MakeTempDir("f"), 12);
  FakeStoreScp scp;
  scp.Script(Sop(7), {{Answer::kAbort}, {Answer::kStatus, 0}});
  auto r = SendFiles(files, Options({scp.address()}, 1), nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stored, 12u);
  EXPECT_TRUE(r->failures.empty());
  EXPECT_EQ(r->associations, 2);
  EXPECT_EQ(scp.associations(), 2);
  EXPECT_EQ(scp.attempts_by_sop()[Sop(7)], 2);
}

TEST(ParallelSender, DeadNodeOnlyMeansEveryFileListedAsFailed) {
  auto files = MakeFiles(MakeTempDir("f"), 4);
  auto r = SendFiles(files, Options({"127.0.0.1:" + std::to_string(testing::UnusedPort())}, 2), nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stored, 0u);
  ASSERT_EQ(r->failures.size(), 4u);
  for (const auto& f : r->failures) EXPECT_NE(f.reason.find("cannot connect"), std::string::npos) << f.reason;
}

TEST(ParallelSender, LiveNodeTakesTheShareOfADeadOne) {
  auto files = MakeFiles(MakeTempDir("f"), 10);
  FakeStoreScp scp;
  const std::string dead = "127.0.0.1:" + std::to_string(testing::UnusedPort());
  auto r = SendFiles(files, Options({scp.address(), dead}, 4), nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stored, 10u);
  EXPECT_TRUE(r->failures.empty());
  EXPECT_EQ(r->stored_per_node, (std::vector<uint64_t>{10, 0}));
  bool mentioned = false;
  for (const auto& w : r->warning_messages) mentioned |= w.find(dead) != std::string::npos;
  EXPECT_TRUE(mentioned);
  EXPECT_EQ(scp.attempts_by_sop().size(), 10u);
}

TEST(ParallelSender, FilesBeyond128CombinationsUseSeveralAssociations) {
  // 65 SOP classes x 2 syntaxes = 130 combinations: more than one association can carry.
  const std::string dir = MakeTempDir("f");
  std::vector<std::string> classes;
  for (int i = 0; i < 130; ++i) {
    if (i % 2 == 0) classes.push_back("1.2.826.0.1.3680043.10.1337.97." + std::to_string(i / 2));
    WriteTestFile(dir + "/" + std::to_string(i) + ".dcm",
                  {.sop_class = classes.back(), .sop_uid = Sop(i), .syntax = i % 2 ? kImplicit : kExplicit});
  }
  auto files = ScanForDicomFiles({dir}).value().files;
  FakeStoreScp scp(classes);
  auto r = SendFiles(files, Options({scp.address()}, 1), nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stored, 130u);
  for (const auto& f : r->failures) ADD_FAILURE() << f.path << ": " << f.reason;
  EXPECT_EQ(r->associations, 2);
  for (const auto& a : scp.attempts()) {
    const int i = std::stoi(a.sop_uid.substr(a.sop_uid.rfind('.') + 1));
    EXPECT_EQ(a.transfer_syntax, i % 2 ? kImplicit : kExplicit) << a.sop_uid;
  }
}

TEST(ParallelSender, RefusedSyntaxFailsAtOnceWithoutRetry) {
  const std::string dir = MakeTempDir("f");
  WriteTestFile(dir + "/ok.dcm", {.sop_uid = Sop(1)});
  // Not accepted by the fake SCP: an MR file.
  WriteTestFile(dir + "/mr.dcm", {.sop_class = "1.2.840.10008.5.1.4.1.1.4", .sop_uid = Sop(2)});
  auto files = ScanForDicomFiles({dir}).value().files;
  FakeStoreScp scp;
  auto r = SendFiles(files, Options({scp.address()}, 1), nullptr);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->stored, 1u);
  ASSERT_EQ(r->failures.size(), 1u);
  EXPECT_EQ(r->failures[0].sop_instance_uid, Sop(2));
  EXPECT_EQ(r->retries, 0u);
}

TEST(ParallelSender, RejectsUnusableOptions) {
  std::vector<DicomFileInfo> none;
  SendOptions o;
  EXPECT_EQ(SendFiles(none, o, nullptr).status().code(), Status::Code::kInvalidArgument);  // no node
  o.nodes = {{"127.0.0.1", 104}};
  o.calling_aet = "THIS-AE-TITLE-IS-TOO-LONG";
  EXPECT_EQ(SendFiles(none, o, nullptr).status().code(), Status::Code::kInvalidArgument);
  o.calling_aet = "OK";
  o.parallel = 0;
  EXPECT_EQ(SendFiles(none, o, nullptr).status().code(), Status::Code::kInvalidArgument);
}

}  // namespace
}  // namespace strata
