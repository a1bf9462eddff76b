"""A tiny independent S3 client for test fixtures (bucket creation, listing), signing with
AWS Signature V4 from Python's standard library. Deliberately separate from Strata's own
signer so the tests do not trust the code they check."""
import datetime
import hashlib
import hmac
import os
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET


def _sign(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


class S3:
    def __init__(self, endpoint=None, access_key=None, secret_key=None, region=None):
        self.endpoint = (endpoint or os.environ["STRATA_TEST_S3_ENDPOINT"]).rstrip("/")
        self.access_key = access_key or os.environ["AWS_ACCESS_KEY_ID"]
        self.secret_key = secret_key or os.environ["AWS_SECRET_ACCESS_KEY"]
        self.region = region or os.environ.get("AWS_DEFAULT_REGION", "us-east-1")

    def request(self, method, path, query=None, body=b""):
        u = urllib.parse.urlparse(self.endpoint)
        now = datetime.datetime.utcnow()
        amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        q = sorted((query or {}).items())
        canon_q = "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~"))
                           for k, v in q)
        payload = hashlib.sha256(body).hexdigest()
        headers = {"host": u.netloc, "x-amz-content-sha256": payload, "x-amz-date": amz_date}
        signed = ";".join(sorted(headers))
        canon = "\n".join([method, urllib.parse.quote(path), canon_q,
                           "".join("%s:%s\n" % (k, headers[k]) for k in sorted(headers)), signed, payload])
        scope = "%s/%s/s3/aws4_request" % (day, self.region)
        sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canon.encode()).hexdigest()])
        k = _sign(_sign(_sign(_sign(("AWS4" + self.secret_key).encode(), day), self.region), "s3"), "aws4_request")
        sig = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
            self.access_key, scope, signed, sig)
        url = self.endpoint + urllib.parse.quote(path) + ("?" + canon_q if canon_q else "")
        req = urllib.request.Request(url, data=body if method in ("PUT", "POST") else None, method=method,
                                     headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def create_bucket(self, bucket):
        status, body = self.request("PUT", "/" + bucket)
        assert status in (200, 409), (status, body)

    def list_keys(self, bucket, prefix):
        keys, token = [], None
        while True:
            q = {"list-type": "2", "prefix": prefix}
            if token:
                q["continuation-token"] = token
            status, body = self.request("GET", "/" + bucket, q)
            assert status == 200, (status, body)
            root = ET.fromstring(body)
            ns = root.tag.split("}")[0] + "}" if root.tag.startswith("{") else ""
            keys += [c.find(ns + "Key").text for c in root.findall(ns + "Contents")]
            if root.findtext(ns + "IsTruncated") != "true":
                return keys
            token = root.findtext(ns + "NextContinuationToken")

    def list_uploads(self, bucket, prefix):
        status, body = self.request("GET", "/" + bucket, {"uploads": "", "prefix": prefix})
        assert status == 200, (status, body)
        root = ET.fromstring(body)
        ns = root.tag.split("}")[0] + "}" if root.tag.startswith("{") else ""
        return [u.findtext(ns + "Key") for u in root.findall(ns + "Upload")]
