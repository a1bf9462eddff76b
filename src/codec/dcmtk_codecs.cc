#include "codec/dcmtk_codecs.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>
#include <dcmtk/dcmjpls/djencode.h>

#include <mutex>

namespace strata::codec {

void RegisterDcmtkCodecs() {
  static std::once_flag once;
  std::call_once(once, [] {
    DJDecoderRegistration::registerCodecs(EDC_photometricInterpretation, EUC_never, EPC_default);
    DcmRLEDecoderRegistration::registerCodecs(/*pCreateSOPInstanceUID=*/OFFalse,
                                              /*pReverseDecompressionByteOrder=*/OFFalse);
    DJLSDecoderRegistration::registerCodecs(EJLSUC_never, EJLSPC_restore);
    DJLSEncoderRegistration::registerCodecs(/*t1=*/0, /*t2=*/0, /*t3=*/0, /*reset=*/0,
                                            /*preferCookedEncoding=*/OFFalse,
                                            /*fragmentSize=*/0, /*createOffsetTable=*/OFTrue,
                                            EJLSUC_never, /*convertToSC=*/OFFalse,
                                            DJLSCodecParameter::interleaveDefault,
                                            /*useFFbitstreamPadding=*/OFTrue);
  });
}

}  // namespace strata::codec
