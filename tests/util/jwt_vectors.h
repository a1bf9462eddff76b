// Fixed JWT test vectors: an RSA-2048 and a P-256 key (kJwks) and tokens signed with them
// once by python3-cryptography. Claims: iss https://idp.test, aud strata, sub alice, nbf
// 1700000000, exp 2000000000, roles [read, write]; kEs: sub bob, aud [other, strata], scope
// "read delete"; kNokid: ES256 without kid; kBadkid: RS256 with kid "zz".
#pragma once

namespace strata::jwt_vectors {

constexpr const char* kJwks =
    "{\"keys\":[{\"kty\":\"RSA\",\"kid\":\"r1\",\"use\":\"sig\",\"alg\":\"RS256\",\"n\":\"ykHnfhItb8EhNT0NA7nqP1VOe2C9veEizVnXpOsVxklpDY4cx9msYrUBKwuvdSaUlqHS0B9hEfzWPLlhadk4UQ-9i0PpowFhJsy4K1i6_nHLop66YxwHDUO3RUKA3uERuH5arbmPraE5Bc57OACrnBAMKFAQxVJKJ09RJ6MpQ1QNzS3HZi1N3wJO9rT9MeXUId2d4iDtOjRBKG_3I5OYlP20M-HjdjGK3vMeCIeCvrKJXhswbS_AG7PnQMJWKyqXHh_D4S7d-yDaLn7UgY4beVjrnc8J2m5E9bAOa9dNhtAXDzGLboMs2VHtvz4kZHCkQlTJbpKhxWBt7NoGOuhnwQ\",\"e\":\"AQAB\"},{\"kty\":\"EC\",\"kid\":\"e1\",\"crv\":\"P-256\",\"x\":\"tUsFbIQ2zwKzj10lnipy-RbXn1f3-xvlaYFvnJtpg1k\",\"y\":\"ouUobtrbGkaMhy-TIQRJmDmHooLMXCkGf-rNqSPBZ1A\"}]}";
constexpr const char* kRs =
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6InIxIn0.eyJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjoic3RyYXRhIiwic3ViIjoiYWxpY2UiLCJleHAiOjIwMDAwMDAwMDAsIm5iZiI6MTcwMDAwMDAwMCwicm9sZXMiOlsicmVhZCIsIndyaXRlIl19.lUqPWkuwZN8enDW2Zg9CzigSNWIeV0qqMarGNHm1wsMIeo2leMLd9aUT1Mt_VXmAxOUCE06KLooBQj2W9D7XgBt8uKwOi2YORhi7M3hmIkh3hj6mqmFKsKqMppW184UYt0B7DU6FY7o92T3zitAooklcHh4oQs3Enlmwuad04TIBybkZ_AUKVdYOxl68LuWReZMkchGCN5QQv2OKWds5Y8G8EOUfooJJPFu181biSVPe4OuMssotQxdhnRmyMCRtkzrduZZzRYUSPsMibEpXK7nyLPyn64xq2sgX3zU74LGIETq5gBDyHpTksknZ51THPIjNjdmwptBbR0w4Hzd1LA";
constexpr const char* kEs =
    "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6ImUxIn0.eyJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjpbIm90aGVyIiwic3RyYXRhIl0sInN1YiI6ImJvYiIsImV4cCI6MjAwMDAwMDAwMCwibmJmIjoxNzAwMDAwMDAwLCJyb2xlcyI6WyJyZWFkIiwid3JpdGUiXSwic2NvcGUiOiJyZWFkIGRlbGV0ZSJ9.-UNWWlC0Wk7bBQG7wfJzcTELB5E6WifyFPyCjU-6R2B_HYfQhsxkXAq4T0B9XNb3uBlP2psWi_BxI0o96RUfJg";
constexpr const char* kNokid =
    "eyJhbGciOiJFUzI1NiIsInR5cCI6IkpXVCJ9.eyJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjoic3RyYXRhIiwic3ViIjoiYWxpY2UiLCJleHAiOjIwMDAwMDAwMDAsIm5iZiI6MTcwMDAwMDAwMCwicm9sZXMiOlsicmVhZCIsIndyaXRlIl19.K9Urynue_AZb7H_uccO6ZkwkDs3PiP7fDHIwRnraO7z4WfqCwPJz72Ij5sS03hHmkstQxyzT9H7QNKGoY9gaow";
constexpr const char* kBadkid =
    "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCIsImtpZCI6Inp6In0.eyJpc3MiOiJodHRwczovL2lkcC50ZXN0IiwiYXVkIjoic3RyYXRhIiwic3ViIjoiYWxpY2UiLCJleHAiOjIwMDAwMDAwMDAsIm5iZiI6MTcwMDAwMDAwMCwicm9sZXMiOlsicmVhZCIsIndyaXRlIl19.XgnXoeYsI1MChGi9zIsOk9d6UIhbeeDtg_2ZauZifIW12aHh-GlC5_JsaCH09nXJGVW1w6gqoPz9ADE8M5APYUOhQMdx_9CNGLaA-qT2D6ZJPHvv1JEZ6jw0vP8tSG9Krz5MADdmWCcl0bLbUoZNU3e2sEHDUqVu52Bol0rz4L5c-yzUSH7aIaGp_oevuun7DRyin-_3kWqxKuusi-CKKOKgy65-8aJm1QeGkNWsG3yLyto3eZtFXA5Bf_1650GCtDh6zGMIEl65SiWlGJSowEaIPiz9r2VBWIwKW-PC-Y6kaHyR6jrICoMClY_5fbR5oGLK4C-wQ2BHC3F5J7DWaA";

}  // namespace strata::jwt_vectors
