#!/bin/sh
# One-shot set-up of MinIO for feedbackd (run by the `minio-init` service of deploy/compose.yaml):
# the bucket, a policy limited to that bucket, and feedbackd's own user with that policy, so that
# feedbackd never holds the MinIO root credentials' powers. Every step is idempotent.
set -eu

: "${MINIO_URL:?}" "${MINIO_ROOT_USER:?}" "${MINIO_ROOT_PASSWORD:?}"
: "${S3_BUCKET:?}" "${APP_ACCESS_KEY:?}" "${APP_SECRET_KEY:?}"
POLICY=feedbackd-bucket

# The server may still be starting even when reported healthy: retry the alias for a while.
tries=0
until mc alias set local "$MINIO_URL" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null 2>&1; do
  tries=$((tries + 1))
  if [ "$tries" -ge 30 ]; then
    echo "minio-init: cannot reach $MINIO_URL with the root credentials" >&2
    exit 1
  fi
  sleep 2
done

mc mb --ignore-existing "local/$S3_BUCKET"

policy_file=$(mktemp)
trap 'rm -f "$policy_file"' EXIT
cat >"$policy_file" <<EOF
{
  "Version": "2012-10-17",
  "Statement": [
    {
      "Effect": "Allow",
      "Action": ["s3:GetBucketLocation", "s3:ListBucket", "s3:ListBucketMultipartUploads"],
      "Resource": ["arn:aws:s3:::$S3_BUCKET"]
    },
    {
      "Effect": "Allow",
      "Action": ["s3:GetObject", "s3:PutObject", "s3:DeleteObject",
                 "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"],
      "Resource": ["arn:aws:s3:::$S3_BUCKET/*"]
    }
  ]
}
EOF
mc admin policy create local "$POLICY" "$policy_file" >/dev/null

# `user add` on an existing user updates its secret, so a changed AWS_SECRET_ACCESS_KEY applies.
mc admin user add local "$APP_ACCESS_KEY" "$APP_SECRET_KEY" >/dev/null
if ! mc admin policy attach local "$POLICY" --user "$APP_ACCESS_KEY" >/dev/null 2>&1; then
  # Attaching fails when the policy is already attached: make sure that is the reason.
  mc admin user info local "$APP_ACCESS_KEY" | grep -q "$POLICY" || {
    echo "minio-init: could not attach policy $POLICY to $APP_ACCESS_KEY" >&2
    exit 1
  }
fi

echo "minio-init: bucket $S3_BUCKET ready, user $APP_ACCESS_KEY limited to it"
