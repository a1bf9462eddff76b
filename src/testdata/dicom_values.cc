#include "testdata/dicom_values.h"

#include <algorithm>
#include <chrono>
#include <cstdio>

namespace strata::testdata {

Result<Date> ParseDate(const std::string& s) {
  if (s.size() != 8 || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; }))
    return Status::InvalidArgument("study date '" + s + "' is not YYYYMMDD");
  Date d{std::stoi(s.substr(0, 4)), std::stoi(s.substr(4, 2)), std::stoi(s.substr(6, 2))};
  std::chrono::year_month_day ymd{std::chrono::year{d.y}, std::chrono::month{static_cast<unsigned>(d.m)},
                                  std::chrono::day{static_cast<unsigned>(d.d)}};
  if (!ymd.ok() || d.y < 1900) return Status::InvalidArgument("study date '" + s + "' is not a valid date");
  return d;
}

std::string FormatDate(const Date& d) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%04d%02d%02d", d.y, d.m, d.d);
  return buf;
}

Date AddDays(Date d, int days) {
  using namespace std::chrono;
  sys_days sd{year_month_day{year{d.y}, month{static_cast<unsigned>(d.m)}, day{static_cast<unsigned>(d.d)}}};
  year_month_day r{sd + std::chrono::days{days}};
  return Date{static_cast<int>(r.year()), static_cast<int>(static_cast<unsigned>(r.month())),
              static_cast<int>(static_cast<unsigned>(r.day()))};
}

std::string FormatTime(int seconds_of_day) {
  seconds_of_day = std::clamp(seconds_of_day, 0, 86399);
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d%02d%02d", seconds_of_day / 3600, seconds_of_day / 60 % 60,
                seconds_of_day % 60);
  return buf;
}

std::string Ds(double v, int decimals) {
  char buf[64];
  for (int p = decimals; p >= 0; --p) {
    std::snprintf(buf, sizeof buf, "%.*f", p, v);
    std::string s(buf);
    if (s.find('.') != std::string::npos) {
      while (!s.empty() && s.back() == '0') s.pop_back();
      if (!s.empty() && s.back() == '.') s.pop_back();
    }
    if (s == "-0") s = "0";
    if (s.size() <= 16) return s;
  }
  return "0";
}

}  // namespace strata::testdata
