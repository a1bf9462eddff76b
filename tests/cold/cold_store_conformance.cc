#include "cold_store_conformance.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <random>
#include <thread>

namespace strata {

std::string ConformanceTargetName(const ::testing::TestParamInfo<ColdStoreTarget>& info) {
  return info.param.name;
}

std::string TestBytes(size_t n, uint32_t seed) {
  std::mt19937 rng(seed * 2654435761u + 12345u);
  std::string out(n, '\0');
  for (char& c : out) c = static_cast<char>(rng() & 0xff);
  return out;
}

void ColdStoreConformance::SetUp() {
  std::string why;
  if (!GetParam().fresh(&options_, &why)) GTEST_SKIP() << why;
  auto store = OpenColdStore(options_);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  store_ = std::move(store).value();
  opened_ = true;
}

void ColdStoreConformance::TearDown() {
  store_.reset();
  if (opened_ && GetParam().cleanup) GetParam().cleanup(options_);
}

namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::vector<std::string> Keys(const std::vector<ObjectInfo>& infos) {
  std::vector<std::string> keys;
  for (const auto& i : infos) keys.push_back(i.key);
  return keys;
}

bool HasUpload(const std::vector<PendingUpload>& ups, const std::string& key) {
  return std::any_of(ups.begin(), ups.end(), [&](const PendingUpload& u) { return u.key == key; });
}

#define EXPECT_CODE(expr, c)                                              \
  do {                                                                    \
    auto _st = (expr);                                                    \
    EXPECT_EQ(_st.code(), Status::Code::c) << #expr << ": " << _st.ToString(); \
  } while (0)

}  // namespace

TEST_P(ColdStoreConformance, PutGetHeadDelete) {
  const std::string data = TestBytes(100000, 1);
  const int64_t before = NowMs();
  ASSERT_TRUE(store_->Put("studies/1.2.3/pack.zip", data).ok());
  auto got = store_->Get("studies/1.2.3/pack.zip");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_TRUE(*got == data);
  auto head = store_->Head("studies/1.2.3/pack.zip");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->key, "studies/1.2.3/pack.zip");
  EXPECT_EQ(head->size, data.size());
  // Clocks of a remote store may differ a little; a minute either way is plenty.
  EXPECT_GT(head->modified_ms, before - 60000);
  EXPECT_LT(head->modified_ms, NowMs() + 60000);
  ASSERT_TRUE(store_->Delete("studies/1.2.3/pack.zip").ok());
  EXPECT_CODE(store_->Head("studies/1.2.3/pack.zip").status(), kNotFound);
  EXPECT_CODE(store_->Get("studies/1.2.3/pack.zip").status(), kNotFound);
  EXPECT_TRUE(store_->Delete("studies/1.2.3/pack.zip").ok());  // already gone: still OK
}

TEST_P(ColdStoreConformance, EmptyAndOverwrittenObjects) {
  ASSERT_TRUE(store_->Put("empty", "").ok());
  auto got = store_->Get("empty");
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "");
  auto head = store_->Head("empty");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size, 0u);
  EXPECT_CODE(store_->GetRange("empty", 0, 1).status(), kInvalidArgument);
  // Objects are immutable by convention, but a rewrite (a repeated migration) must not mix.
  ASSERT_TRUE(store_->Put("obj", "first version").ok());
  ASSERT_TRUE(store_->Put("obj", "second").ok());
  EXPECT_EQ(store_->Get("obj").value(), "second");
}

TEST_P(ColdStoreConformance, GetRangeReadsExactlyTheRange) {
  const std::string data = TestBytes(10000, 2);
  ASSERT_TRUE(store_->Put("r/obj", data).ok());
  struct Case { uint64_t off, len; };
  for (Case c : {Case{0, 1}, Case{0, 10000}, Case{9999, 1}, Case{1234, 4321}, Case{5000, 5000}}) {
    auto got = store_->GetRange("r/obj", c.off, c.len);
    ASSERT_TRUE(got.ok()) << c.off << "+" << c.len << ": " << got.status().ToString();
    EXPECT_TRUE(*got == data.substr(c.off, c.len)) << c.off << "+" << c.len;
  }
  for (Case c : {Case{9999, 2}, Case{10000, 1}, Case{0, 10001}, Case{50000, 10}, Case{5, 0}}) {
    EXPECT_CODE(store_->GetRange("r/obj", c.off, c.len).status(), kInvalidArgument);
  }
  EXPECT_CODE(store_->GetRange("r/missing", 0, 1).status(), kNotFound);
}

TEST_P(ColdStoreConformance, ConcurrentRangedReads) {
  const std::string data = TestBytes(1 << 20, 3);
  ASSERT_TRUE(store_->Put("c/obj", data).ok());
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 8; ++i) {
        uint64_t off = static_cast<uint64_t>((t * 8 + i) * 16381) % (data.size() - 4096);
        auto got = store_->GetRange("c/obj", off, 4096);
        if (!got.ok() || *got != data.substr(off, 4096)) ++bad;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(bad.load(), 0);
}

TEST_P(ColdStoreConformance, ListIsARecursiveStringPrefixMatchInKeyOrder) {
  for (const char* k : {"p/2", "p/1", "p/sub/3", "pp/4", "q/5"}) {
    ASSERT_TRUE(store_->Put(k, std::string(k)).ok()) << k;
  }
  auto all = store_->List("");
  ASSERT_TRUE(all.ok()) << all.status().ToString();
  EXPECT_EQ(Keys(*all), (std::vector<std::string>{"p/1", "p/2", "p/sub/3", "pp/4", "q/5"}));
  EXPECT_EQ((*all)[2].size, 7u);
  EXPECT_EQ(Keys(store_->List("p/").value()), (std::vector<std::string>{"p/1", "p/2", "p/sub/3"}));
  EXPECT_EQ(Keys(store_->List("p").value()),
            (std::vector<std::string>{"p/1", "p/2", "p/sub/3", "pp/4"}));
  EXPECT_EQ(Keys(store_->List("p/s").value()), (std::vector<std::string>{"p/sub/3"}));
  EXPECT_EQ(Keys(store_->List("p/sub/3").value()), (std::vector<std::string>{"p/sub/3"}));
  EXPECT_TRUE(store_->List("none/").value().empty());
  ASSERT_TRUE(store_->Delete("p/sub/3").ok());
  EXPECT_EQ(Keys(store_->List("p/").value()), (std::vector<std::string>{"p/1", "p/2"}));
}

TEST_P(ColdStoreConformance, BadKeysAreRejectedBeforeAnythingHappens) {
  for (std::string k : {"", "/abs", "a//b", "a/", "..", "a/../b", "a/./b", ".uploads/x",
                        "a/.tmp-x", "sp ace", "\xC3\xBC"}) {
    EXPECT_CODE(store_->Put(k, "x"), kInvalidArgument);
    EXPECT_CODE(store_->Get(k).status(), kInvalidArgument);
    EXPECT_CODE(store_->GetRange(k, 0, 1).status(), kInvalidArgument);
    EXPECT_CODE(store_->Head(k).status(), kInvalidArgument);
    EXPECT_CODE(store_->Delete(k), kInvalidArgument);
    EXPECT_CODE(store_->StartUpload(k).status(), kInvalidArgument);
  }
  for (std::string p : {"/", "a//", "../x", ".uploads"}) {
    EXPECT_CODE(store_->List(p).status(), kInvalidArgument);
    EXPECT_CODE(store_->ListPendingUploads(p).status(), kInvalidArgument);
  }
  EXPECT_TRUE(store_->List("").value().empty());
}

TEST_P(ColdStoreConformance, MultipartWithPartsFromManyThreads) {
  const size_t part = store_->min_part_size();
  const int full_parts = 4;
  std::vector<std::string> parts;
  for (int i = 0; i < full_parts; ++i) parts.push_back(TestBytes(part, 100 + i));
  parts.push_back(TestBytes(12345, 200));  // the last part may be small
  std::string whole;
  for (const auto& p : parts) whole += p;

  auto up = store_->StartUpload("mp/pack.zip");
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  std::vector<Status> results(parts.size());
  std::vector<std::thread> threads;
  for (size_t i = parts.size(); i-- > 0;) {  // started last part first
    threads.emplace_back([&, i] { results[i] = (*up)->PutPart(static_cast<int>(i + 1), parts[i]); });
  }
  for (auto& t : threads) t.join();
  for (size_t i = 0; i < results.size(); ++i) ASSERT_TRUE(results[i].ok()) << i << ": " << results[i].ToString();

  EXPECT_CODE(store_->Head("mp/pack.zip").status(), kNotFound);  // nothing visible yet
  EXPECT_TRUE(store_->List("mp/").value().empty());
  ASSERT_TRUE((*up)->Complete().ok());
  EXPECT_TRUE((*up)->Complete().ok());  // again: a no-op
  EXPECT_TRUE((*up)->Abort().ok());     // after Complete: a no-op, the object stays
  EXPECT_CODE((*up)->PutPart(6, "late"), kInvalidArgument);

  auto head = store_->Head("mp/pack.zip");
  ASSERT_TRUE(head.ok()) << head.status().ToString();
  EXPECT_EQ(head->size, whole.size());
  auto got = store_->Get("mp/pack.zip");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got == whole);
  // A range across the boundary of parts 1 and 2.
  auto across = store_->GetRange("mp/pack.zip", part - 100, 200);
  ASSERT_TRUE(across.ok());
  EXPECT_TRUE(*across == whole.substr(part - 100, 200));
  EXPECT_EQ(Keys(store_->List("mp/").value()), (std::vector<std::string>{"mp/pack.zip"}));
  EXPECT_FALSE(HasUpload(store_->ListPendingUploads("").value(), "mp/pack.zip"));
}

TEST_P(ColdStoreConformance, MultipartPartsReplacedAndGapsAllowed) {
  const size_t part = store_->min_part_size();
  auto up = store_->StartUpload("gap/obj");
  ASSERT_TRUE(up.ok());
  ASSERT_TRUE((*up)->PutPart(2, TestBytes(part, 7)).ok());
  ASSERT_TRUE((*up)->PutPart(2, TestBytes(part, 8)).ok());  // replaces the first part 2
  ASSERT_TRUE((*up)->PutPart(5, "tail").ok());
  ASSERT_TRUE((*up)->Complete().ok());
  auto got = store_->Get("gap/obj");
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(*got == TestBytes(part, 8) + "tail");
}

TEST_P(ColdStoreConformance, MultipartRules) {
  auto up = store_->StartUpload("rules/obj");
  ASSERT_TRUE(up.ok());
  EXPECT_CODE((*up)->PutPart(0, "x"), kInvalidArgument);
  EXPECT_CODE((*up)->PutPart(10001, "x"), kInvalidArgument);
  EXPECT_CODE((*up)->Complete(), kInvalidArgument);  // no parts
  ASSERT_TRUE((*up)->PutPart(1, "too small").ok());
  ASSERT_TRUE((*up)->PutPart(2, "last").ok());
  Status s = (*up)->Complete();
  EXPECT_CODE(s, kInvalidArgument);  // part 1 is below the minimum
  EXPECT_CODE(store_->Head("rules/obj").status(), kNotFound);
  ASSERT_TRUE((*up)->Abort().ok());  // still abortable
  EXPECT_TRUE((*up)->Abort().ok());  // twice: a no-op
  EXPECT_CODE((*up)->Complete(), kInvalidArgument);
  EXPECT_CODE((*up)->PutPart(1, "x"), kInvalidArgument);
  EXPECT_FALSE(HasUpload(store_->ListPendingUploads("rules/").value(), "rules/obj"));
}

TEST_P(ColdStoreConformance, AbortAndDestructionDiscardTheUpload) {
  {
    auto up = store_->StartUpload("ab/explicit");
    ASSERT_TRUE(up.ok());
    ASSERT_TRUE((*up)->PutPart(1, TestBytes(1000, 9)).ok());
    EXPECT_TRUE(HasUpload(store_->ListPendingUploads("ab/").value(), "ab/explicit"));
    ASSERT_TRUE((*up)->Abort().ok());
  }
  {
    auto up = store_->StartUpload("ab/destroyed");
    ASSERT_TRUE(up.ok());
    ASSERT_TRUE((*up)->PutPart(1, TestBytes(1000, 10)).ok());
  }  // destroyed without Complete: aborted
  auto pending = store_->ListPendingUploads("ab/");
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  EXPECT_TRUE(pending->empty()) << pending->size() << " left, first " << pending->front().key;
  EXPECT_CODE(store_->Head("ab/explicit").status(), kNotFound);
  EXPECT_CODE(store_->Head("ab/destroyed").status(), kNotFound);
}

// A process that dies mid-upload (kill -9: no destructor runs) leaves a pending upload that
// a later process lists and aborts.
TEST_P(ColdStoreConformance, PendingUploadAfterACrashIsListedAndAborted) {
  const int64_t before = NowMs();
  pid_t pid = fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    auto store = OpenColdStore(options_);
    if (!store.ok()) _exit(2);
    auto up = (*store)->StartUpload("crash/pack.zip");
    if (!up.ok()) _exit(3);
    if (!(*up)->PutPart(1, TestBytes(4096, 11)).ok()) _exit(4);
    raise(SIGKILL);
    _exit(5);
  }
  int wstatus = 0;
  ASSERT_EQ(waitpid(pid, &wstatus, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(wstatus) && WTERMSIG(wstatus) == SIGKILL)
      << "child exited with " << (WIFEXITED(wstatus) ? WEXITSTATUS(wstatus) : -1);

  auto pending = store_->ListPendingUploads("crash/");
  ASSERT_TRUE(pending.ok()) << pending.status().ToString();
  ASSERT_EQ(pending->size(), 1u);
  const PendingUpload u = pending->front();
  EXPECT_EQ(u.key, "crash/pack.zip");
  EXPECT_FALSE(u.upload_id.empty());
  EXPECT_GT(u.initiated_ms, before - 60000);
  EXPECT_LT(u.initiated_ms, NowMs() + 60000);
  EXPECT_FALSE(HasUpload(store_->ListPendingUploads("other/").value(), "crash/pack.zip"));
  EXPECT_CODE(store_->Head("crash/pack.zip").status(), kNotFound);

  ASSERT_TRUE(store_->AbortPendingUpload(u).ok());
  EXPECT_TRUE(store_->ListPendingUploads("crash/").value().empty());
  EXPECT_TRUE(store_->AbortPendingUpload(u).ok());  // already gone: still OK
  EXPECT_CODE(store_->Head("crash/pack.zip").status(), kNotFound);
}

}  // namespace strata
