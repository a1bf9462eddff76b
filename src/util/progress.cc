#include "util/progress.h"

#include <unistd.h>

namespace strata {

ProgressLine::ProgressLine(std::string label, uint64_t total_items, uint64_t total_bytes, FILE* out)
    : label_(std::move(label)),
      total_items_(total_items),
      total_bytes_(total_bytes),
      out_(out),
      tty_(isatty(fileno(out)) != 0),
      start_(std::chrono::steady_clock::now()),
      last_draw_(start_) {}

double ProgressLine::seconds() const {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
}

void ProgressLine::Add(uint64_t items, uint64_t bytes) {
  std::lock_guard<std::mutex> lk(mu_);
  items_ += items;
  bytes_ += bytes;
  auto now = std::chrono::steady_clock::now();
  auto every = tty_ ? std::chrono::milliseconds(100) : std::chrono::milliseconds(1000);
  if (now - last_draw_ >= every) {
    last_draw_ = now;
    Draw(false);
  }
}

void ProgressLine::Finish(const std::string& suffix) {
  std::lock_guard<std::mutex> lk(mu_);
  Draw(true);
  if (!suffix.empty()) std::fprintf(out_, "%s\n", suffix.c_str());
}

void ProgressLine::Draw(bool final) {
  const double s = seconds();
  const double mb = bytes_ / 1e6;
  const double rate = s > 0 ? mb / s : 0;
  char eta[32] = "";
  if (!final && total_bytes_ > 0 && rate > 0 && bytes_ < total_bytes_)
    std::snprintf(eta, sizeof eta, " ETA %.0fs", (total_bytes_ - bytes_) / 1e6 / rate);
  else if (!final && total_items_ > 0 && items_ > 0 && items_ < total_items_)
    std::snprintf(eta, sizeof eta, " ETA %.0fs", s * (total_items_ - items_) / items_);
  char count[64];
  if (total_items_) std::snprintf(count, sizeof count, "%llu/%llu", (unsigned long long)items_, (unsigned long long)total_items_);
  else std::snprintf(count, sizeof count, "%llu", (unsigned long long)items_);
  if (tty_) {
    std::string bar;
    if (total_items_ || total_bytes_) {
      double frac = total_bytes_ ? double(bytes_) / total_bytes_ : double(items_) / total_items_;
      int fill = static_cast<int>(std::min(1.0, frac) * 30);
      bar = "[" + std::string(fill, '#') + std::string(30 - fill, '.') + "] ";
    }
    std::fprintf(out_, "\r%s %s%s files  %.1f MB  %.1f MB/s%s\033[K", label_.c_str(), bar.c_str(), count, mb, rate, eta);
    if (final) std::fprintf(out_, "\n");
  } else {
    std::fprintf(out_, "%s %s files %.1f MB %.1f MB/s %.1fs%s%s\n", label_.c_str(), count, mb, rate, s, eta,
                 final ? " done" : "");
  }
  std::fflush(out_);
}

}  // namespace strata
