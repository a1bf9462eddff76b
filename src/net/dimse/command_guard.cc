#include "net/dimse/command_guard.h"

#include <cerrno>

#include "net/dimse/tls_acceptor.h"
#include "transfer/tls_transport.h"
#include "util/log.h"

namespace strata {

bool CommandGuard::Feed(const uint8_t* p, size_t n) {
  if (!error_.empty()) return false;
  while (n > 0) {
    switch (state_) {
      case State::kPduHeader: {
        hdr_[hdr_len_++] = *p++;
        --n;
        if (hdr_len_ < 6) break;
        hdr_len_ = 0;
        pdu_left_ = (uint64_t{hdr_[2]} << 24) | (hdr_[3] << 16) | (hdr_[4] << 8) | hdr_[5];
        state_ = pdu_left_ == 0 ? State::kPduHeader : hdr_[0] == 0x04 ? State::kPdvHeader : State::kSkip;
        break;
      }
      case State::kSkip: {
        const size_t k = static_cast<size_t>(std::min<uint64_t>(n, pdu_left_));
        p += k, n -= k, pdu_left_ -= k;
        if (pdu_left_ == 0) state_ = State::kPduHeader;
        break;
      }
      case State::kPdvHeader: {
        hdr_[hdr_len_++] = *p++;
        --n;
        --pdu_left_;
        if (hdr_len_ < 6 && pdu_left_ > 0) break;
        if (hdr_len_ < 6) return Fail("P-DATA-TF ends inside a PDV header");
        hdr_len_ = 0;
        const uint64_t len = (uint64_t{hdr_[0]} << 24) | (hdr_[1] << 16) | (hdr_[2] << 8) | hdr_[3];
        if (len < 2 || len - 2 > pdu_left_) return Fail("PDV length does not fit its PDU");
        pdv_left_ = len - 2;
        pdv_command_ = hdr_[5] & 0x01;
        pdv_last_ = hdr_[5] & 0x02;
        state_ = State::kPdvData;
        [[fallthrough]];
      }
      case State::kPdvData: {
        const size_t k = static_cast<size_t>(std::min<uint64_t>(n, pdv_left_));
        if (pdv_command_) {
          for (size_t i = 0; i < k; ++i) {
            window_ = (window_ << 8) | p[i];
            // (FFFE,E000) little endian FE FF 00 E0, big endian FF FE E0 00.
            if (window_ == 0xFEFF00E0u || window_ == 0xFFFEE000u) ++command_items_;
          }
          command_bytes_ += k;
          if (command_bytes_ > max_bytes_)
            return Fail("command set larger than " + std::to_string(max_bytes_) + " bytes");
          if (command_items_ > max_items_)
            return Fail("command set holds sequence items (at most " + std::to_string(max_items_) + ")");
        }
        p += k, n -= k, pdv_left_ -= k, pdu_left_ -= k;
        if (pdv_left_ == 0) {
          if (pdv_command_ && pdv_last_) command_bytes_ = 0, command_items_ = 0, window_ = 0;
          state_ = pdu_left_ == 0 ? State::kPduHeader : State::kPdvHeader;
        }
        break;
      }
      case State::kPduBody:
        state_ = State::kSkip;
        break;
    }
  }
  return true;
}

namespace {

// A WrappedConnection: server associations (and the C-MOVE sub-associations the server's
// network opens) ACK at once too.
class GuardedConnection : public WrappedConnection {
 public:
  GuardedConnection(DcmNativeSocketType sock, std::unique_ptr<DcmTransportConnection> inner, bool handshake_done,
                    size_t max_bytes, int max_items)
      : WrappedConnection(sock, std::move(inner), {}, handshake_done), guard_(max_bytes, max_items) {}
  ssize_t read(void* buf, size_t nbyte) override {
    if (!guard_.error().empty()) return -1;
    ssize_t n = WrappedConnection::read(buf, nbyte);
    if (n > 0 && !guard_.Feed(static_cast<const uint8_t*>(buf), static_cast<size_t>(n))) {
      spdlog::warn("event=command_refused error=\"{}\" action=drop_association", guard_.error());
      errno = EPROTO;
      return -1;
    }
    return n;
  }

 private:
  CommandGuard guard_;
};

}  // namespace

DcmTransportConnection* GuardedTransportLayer::createConnection(DcmNativeSocketType sock, OFBool use_secure_layer) {
  // A connection the TLS port accepted: its handshake is over, its A-ASSOCIATE-RQ buffered.
  if (auto parked = TakeHandedOver(sock))
    return new GuardedConnection(sock, std::move(parked), true, max_bytes_, max_items_);
  if (use_secure_layer) {
    if (!tls_) return nullptr;
    DcmTransportConnection* c = tls_->createConnection(sock, OFTrue);
    if (!c) return nullptr;
    return new GuardedConnection(sock, std::unique_ptr<DcmTransportConnection>(c), false, max_bytes_, max_items_);
  }
  return new GuardedConnection(sock, std::make_unique<DcmTCPConnection>(sock), false, max_bytes_, max_items_);
}

}  // namespace strata
