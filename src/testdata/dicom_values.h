// Value formatting for generated data sets: DA (YYYYMMDD) dates, TM (HHMMSS) times and DS
// decimal strings. Pure functions.
#pragma once

#include <string>

#include "util/status.h"

namespace strata::testdata {

struct Date {
  int y, m, d;
};

// A valid calendar date from 1900 on, as YYYYMMDD.
Result<Date> ParseDate(const std::string& s);
std::string FormatDate(const Date& d);
Date AddDays(Date d, int days);
// HHMMSS of a second of the day (clamped to 0..86399).
std::string FormatTime(int seconds_of_day);
// Decimal string for DS: at most 16 characters, no trailing zeros, at most DECIMALS digits
// after the point.
std::string Ds(double v, int decimals = 6);

}  // namespace strata::testdata
