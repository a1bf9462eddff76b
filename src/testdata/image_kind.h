// The image kinds of StudyGenerator (study_generator.h), one builder each: what a kind's
// defaults, SOP class and modality are, and the function that puts its kind-specific modules
// and pixel data. Internal to strata_testdata. Builders are pure functions of their context.
#pragma once

#include <cstdint>
#include <span>
#include <string>

#include "testdata/dataset_writer.h"
#include "testdata/phantoms.h"
#include "testdata/study_generator.h"

namespace strata::testdata {

// What a builder gets: the options (kind defaults filled in), the instance, and what the
// common patient/study/series part already derived.
struct ImageContext {
  const GeneratorOptions& opt;
  const InstanceKey& key;
  const InstanceUids& uid;
  const Habitus& habitus;
  const std::string& study_date;
  int series_secs = 0;   // series time, seconds of the day
  int content_secs = 0;  // content time
};

using ImageBuilder = void (*)(const ImageContext& c, DsWriter& w);

struct ImageKindInfo {
  ImageKind kind;
  const char* name;       // "ct", ... (strata-gen's sub-command)
  const char* sop_class;
  const char* modality;
  uint32_t images, rows, cols, bits_stored;  // defaults
  ImageBuilder build;
};

// The entry of K, or nullptr for a value that is no ImageKind enumerator.
const ImageKindInfo* FindImageKind(ImageKind k);
// The entry of K, which must be valid (StudyGenerator::Create checked it).
const ImageKindInfo& KindInfo(ImageKind k);
// Every kind, in ImageKind order.
std::span<const ImageKindInfo> AllImageKinds();

// The CT phantom's series parameters of the instance C describes (seed, patient, study,
// series, size); the caller sets slices, thickness and noise.
CtSeriesParams CtSeriesOf(const ImageContext& c);
// The SC Equipment and SC Image attributes the secondary-capture kinds share: conversion type
// WSD, date/time of capture (the study date, the content time), orientation L\P, no burned-in
// annotation.
void PutSecondaryCapture(const ImageContext& c, DsWriter& w);

// One file each (ct_image.cc, ...).
void BuildCtImage(const ImageContext& c, DsWriter& w);
void BuildMrImage(const ImageContext& c, DsWriter& w);
void BuildMultiFrameImage(const ImageContext& c, DsWriter& w);
void BuildColorImage(const ImageContext& c, DsWriter& w);
void BuildMono1Image(const ImageContext& c, DsWriter& w);

}  // namespace strata::testdata
