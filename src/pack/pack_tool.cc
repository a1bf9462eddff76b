#include "pack/pack_tool.h"

#include <cstdio>
#include <map>
#include <unordered_set>
#include <vector>

#include <nlohmann/json.hpp>

#include "pack/pack_format.h"
#include "pack/pack_reader.h"
#include "util/checksum.h"
#include "util/file_util.h"

namespace strata {
namespace {

std::string ProblemLine(const PackProblem& p) {
  return p.entry.empty() ? p.message : "entry " + p.entry + ": " + p.message;
}

std::string HumanBytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char buf[64];
  if (u == 0) std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(n));
  else std::snprintf(buf, sizeof buf, "%.1f %s", v, units[u]);
  return buf;
}

}  // namespace

Status CheckExtractName(std::string_view name) {
  auto refuse = [&](const std::string& why) {
    return Status::InvalidArgument("refusing to extract '" + std::string(name.substr(0, 200)) +
                                   "': " + why);
  };
  if (name.empty()) return refuse("empty name");
  if (name.front() == '/') return refuse("absolute path");
  if (name.find('\\') != std::string_view::npos) return refuse("backslash in name");
  if (name.find('\0') != std::string_view::npos) return refuse("NUL in name");
  size_t start = 0;
  while (true) {
    size_t slash = name.find('/', start);
    std::string_view part = name.substr(start, slash == std::string_view::npos ? slash : slash - start);
    if (part.empty()) return refuse("empty path component");
    if (part == "..") return refuse("'..' component");
    if (part == ".") return refuse("'.' component");
    if (slash == std::string_view::npos) break;
    start = slash + 1;
  }
  if (name == kPackManifestName) return Status::OK();
  Status st = ParsePackEntryName(name, nullptr, nullptr);
  if (!st.ok()) return refuse(st.message());
  return Status::OK();
}

Status PackInspect(const std::string& path, std::ostream& out, const PackInspectOptions& options) {
  STRATA_ASSIGN_OR_RETURN(PackReader reader, OpenPackFile(path));
  const auto& entries = reader.entries();
  uint64_t data_bytes = 0, original_bytes = 0;
  std::map<std::string, uint64_t> syntaxes, original_syntaxes, series;
  for (const PackEntry& e : entries) {
    data_bytes += e.length;
    original_bytes += e.original_size;
    ++syntaxes[e.transfer_syntax];
    ++original_syntaxes[e.original_transfer_syntax];
    ++series[e.series_instance_uid];
  }

  if (options.json) {
    nlohmann::ordered_json j;
    j["pack"] = path;
    j["size"] = reader.size();
    j["zip64"] = reader.zip64();
    j["format"] = kPackFormatName;
    j["version"] = reader.manifest().version;
    j["study"] = nlohmann::ordered_json(reader.study());
    j["entry_count"] = entries.size();
    j["series_count"] = series.size();
    j["data_bytes"] = data_bytes;
    j["original_bytes"] = original_bytes;
    j["manifest"] = {{"offset", reader.manifest_offset()},
                     {"length", reader.manifest_length()},
                     {"xxh3", HexU64(reader.manifest_xxh3())}};
    j["transfer_syntaxes"] = syntaxes;
    j["original_transfer_syntaxes"] = original_syntaxes;
    j["series"] = series;
    nlohmann::ordered_json problems = nlohmann::ordered_json::array();
    for (const PackProblem& p : reader.problems())
      problems.push_back({{"entry", p.entry}, {"message", p.message}});
    j["problems"] = std::move(problems);
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const PackEntry& e : entries) list.push_back(PackEntryToJson(e));
    j["entries"] = std::move(list);
    try {
      out << j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
    } catch (const std::exception& e) {
      return Status::Internal(std::string("cannot print pack as JSON: ") + e.what());
    }
    return Status::OK();
  }

  out << "pack:       " << path << "\n";
  out << "size:       " << reader.size() << " bytes (" << HumanBytes(reader.size()) << ")"
      << (reader.zip64() ? ", ZIP64" : "") << "\n";
  out << "format:     " << kPackFormatName << " version " << reader.manifest().version << "\n";
  out << "study:      "
      << reader.study().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
  out << "entries:    " << entries.size() << " in " << series.size() << " series, "
      << data_bytes << " data bytes (" << HumanBytes(data_bytes) << "); original "
      << original_bytes << " bytes\n";
  out << "manifest:   offset " << reader.manifest_offset() << ", " << reader.manifest_length()
      << " bytes, xxh3 " << HexU64(reader.manifest_xxh3()) << "\n";
  out << "transfer syntaxes (stored):\n";
  for (const auto& [ts, n] : syntaxes) out << "  " << ts << "  " << n << " entries\n";
  if (original_syntaxes != syntaxes) {
    out << "transfer syntaxes (original):\n";
    for (const auto& [ts, n] : original_syntaxes) out << "  " << ts << "  " << n << " entries\n";
  }
  out << "series:\n";
  for (const auto& [s, n] : series) out << "  " << s << "  " << n << " entries\n";
  if (options.list_entries) {
    out << "entries (name, offset, length, transfer syntax, xxh3):\n";
    for (const PackEntry& e : entries)
      out << "  " << e.name << "  " << e.offset << "  " << e.length << "  " << e.transfer_syntax
          << "  " << HexU64(e.xxh3) << "\n";
  }
  if (!reader.problems().empty()) {
    out << "problems:   " << reader.problems().size() << "\n";
    for (const PackProblem& p : reader.problems()) out << "  " << ProblemLine(p) << "\n";
  }
  return Status::OK();
}

Status PackVerify(const std::string& path, std::ostream& out) {
  auto reader = OpenPackFile(path);
  if (!reader.ok()) {
    out << "FAILED " << path << ": " << reader.status().message() << "\n";
    return reader.status();
  }
  PackVerifyReport report = reader->Verify();
  if (report.ok()) {
    out << "OK " << path << ": " << report.entries_ok << " entries, " << report.bytes_checked
        << " bytes verified\n";
    return Status::OK();
  }
  out << "FAILED " << path << ": " << report.problems.size()
      << (report.problems.size() == 1 ? " problem" : " problems") << " ("
      << report.entries_ok << " of " << reader->entries().size() << " entries OK)\n";
  for (const PackProblem& p : report.problems) out << "  " << ProblemLine(p) << "\n";
  return report.ToStatus();
}

Status PackExtract(const std::string& path, const std::string& out_dir, std::ostream& out) {
  STRATA_ASSIGN_OR_RETURN(PackReader reader, OpenPackFile(path));
  STRATA_RETURN_IF_ERROR(MakeDirs(out_dir));
  // Entries refused by Open are reported once, from its problem list.
  std::vector<std::string> failures;
  std::unordered_set<std::string> refused;
  for (const PackProblem& p : reader.problems()) {
    failures.push_back(ProblemLine(p));
    if (!p.entry.empty()) refused.insert(p.entry);
  }
  uint64_t written = 0, bytes = 0;
  for (const PackEntry& e : reader.entries()) {
    if (refused.count(e.name)) continue;
    if (Status st = CheckExtractName(e.name); !st.ok()) {
      failures.push_back(st.message());
      continue;
    }
    auto data = reader.ReadEntry(e.name);
    if (!data.ok()) {
      failures.push_back(data.status().message());
      continue;
    }
    std::string target = JoinPath(out_dir, e.name);
    Status st = MakeDirs(DirName(target));
    if (st.ok()) st = WriteFileAtomic(target, *data);
    if (!st.ok()) {
      failures.push_back("entry " + e.name + ": " + st.message());
      continue;
    }
    ++written;
    bytes += data->size();
  }
  auto manifest = reader.ReadManifest();
  if (manifest.ok()) {
    Status st = WriteFileAtomic(JoinPath(out_dir, std::string(kPackManifestName)), *manifest);
    if (!st.ok()) failures.push_back(std::string(kPackManifestName) + ": " + st.message());
  } else {
    failures.push_back(manifest.status().message());
  }
  out << "extracted " << written << " of " << reader.entries().size() << " entries (" << bytes
      << " bytes) to " << out_dir << "\n";
  if (failures.empty()) return Status::OK();
  std::string msg = "pack " + path + ": " + std::to_string(failures.size()) +
                    (failures.size() == 1 ? " problem" : " problems") + ", bad entries not extracted";
  for (size_t i = 0; i < failures.size(); ++i) {
    out << "  " << failures[i] << "\n";
    if (i < 20) msg += (i == 0 ? ": " : "; ") + failures[i];
  }
  if (failures.size() > 20) msg += "; and " + std::to_string(failures.size() - 20) + " more";
  return Status::Corruption(msg);
}

}  // namespace strata
