-- AlterTable
ALTER TABLE "Job" ADD COLUMN "clientRequestHash" TEXT;
ALTER TABLE "Job" ADD COLUMN "clientRequestId" TEXT;

-- CreateIndex
CREATE UNIQUE INDEX "Job_createdById_clientRequestId_key" ON "Job"("createdById", "clientRequestId");
