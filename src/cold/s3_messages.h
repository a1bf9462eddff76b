// S3 request and response bodies: the XML documents of the S3 REST API that S3ColdStore
// uses, parsed into plain structs (and the one request body it builds). Keys come back
// decoded (entities such as &amp; resolved). Timestamps are parsed into Unix milliseconds.
// A document that does not have the expected shape is kCorruption, naming the document.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cold/cold_store.h"
#include "util/status.h"

namespace strata {

// <Error><Code>NoSuchKey</Code><Message>...</Message><RequestId>...</RequestId></Error>
struct S3Error {
  std::string code;
  std::string message;
  std::string request_id;
};
// The error document in BODY, or nullopt if BODY is not one (empty, HTML, ...).
std::optional<S3Error> ParseS3Error(std::string_view body);

// ListObjectsV2 (ListBucketResult). Keys are full bucket keys.
struct S3ListPage {
  std::vector<ObjectInfo> objects;
  bool truncated = false;
  std::string next_continuation_token;
};
Result<S3ListPage> ParseListObjectsV2(std::string_view body);

// InitiateMultipartUploadResult -> UploadId.
Result<std::string> ParseInitiateMultipartUpload(std::string_view body);

// ListMultipartUploadsResult. Keys are full bucket keys.
struct S3UploadsPage {
  std::vector<PendingUpload> uploads;
  bool truncated = false;
  std::string next_key_marker;
  std::string next_upload_id_marker;
};
Result<S3UploadsPage> ParseListMultipartUploads(std::string_view body);

// <CompleteMultipartUpload> body for PARTS (part number, ETag as returned by UploadPart),
// in the order given (the caller sorts them).
std::string BuildCompleteMultipartUpload(const std::vector<std::pair<int, std::string>>& parts);

// "2009-10-12T17:50:30.000Z" (ISO 8601, as in listings) -> ms since the epoch; nullopt if bad.
std::optional<int64_t> ParseIso8601Ms(std::string_view s);
// "Wed, 12 Oct 2009 17:50:00 GMT" (RFC 7231, as in Last-Modified) -> ms; nullopt if bad.
std::optional<int64_t> ParseHttpDateMs(std::string_view s);

}  // namespace strata
