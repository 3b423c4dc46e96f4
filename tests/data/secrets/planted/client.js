// FAKE credentials generated for psr-engine tests: random values, never real ones
const openai = new OpenAI({ apiKey: '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' });
const slackApp = 'xapp-1-A2MKQF5L2N6-6418478700119-30e2701e9ef7555e61e398088f0c71a8cd9bafb50ed42606b670889f2ecc46e0';
const shopSecret = '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';
const session = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiAiNDA1Mjk5OTkzMyIsICJuYW1lIjogImR5ZnZ4cW5wIn0.7Rz7L31T3VURhP_JMt2vzFbAkKxSFOfJSgd8DRIlBVn';
const accessKey = 's8w85Tiij3Mp3KMoWyVFTZTQiUb3';
const vault = 'hvb.JN6rrsYSzsSGXA8BP5O2oNFHt2dwfoStU6gUlhBtYnhOtX68JqVRecEoZECxQCLcrCPuWjJ8kLLrQtGPtP8TjzgDwxjOtxIzGGpmv8IsBdP5fZj0Qu4z0ZsH';
const ghRefresh = 'ghr_twQvpThx5lFTiBmR0vTy7kgaVCwCCVSTyPCq';
