-- DropIndex
DROP INDEX "Upload_sha256_key";

-- CreateIndex
CREATE UNIQUE INDEX "Upload_sha256_uploadedById_key" ON "Upload"("sha256", "uploadedById");
